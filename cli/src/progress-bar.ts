/** A one-line progress bar on a TTY; on anything else, a line per 10 % so logs stay readable. */
export function progressBar(
  out: NodeJS.WriteStream,
  tty: boolean,
): { update(done: number, total: number, label: string): void; done(): void } {
  let lastDecile = -1;
  return {
    update(done, total, label) {
      const ratio = total > 0 ? done / total : 0;
      if (tty) {
        const width = 30;
        const filled = Math.round(ratio * width);
        out.write(
          `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} tasks  ${label}   `,
        );
      } else {
        const decile = Math.floor(ratio * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          out.write(`${label}: ${done}/${total} tasks\n`);
        }
      }
    },
    done() {
      if (tty) out.write("\n");
    },
  };
}
