export const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
export const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
