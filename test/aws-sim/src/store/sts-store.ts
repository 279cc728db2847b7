import { accessKeyId, secretKey, uuid } from "../ids.ts";
import type { IamRoleDoc } from "../org-document.ts";
import type { Session, StoreState } from "./store-state.ts";
/** Temporary credentials from AssumeRole; their keys resolve through the shared key index. */
export class StsStore {
  constructor(private readonly s: StoreState) {}

  createSession(accountId: string, role: IamRoleDoc, sessionName: string, durationSeconds: number): Session {
    const created = Date.now();
    const s: Session = {
      accessKeyId: accessKeyId(this.s.rng, "ASIA"),
      secretAccessKey: secretKey(this.s.rng),
      sessionToken: Buffer.from(`${uuid(this.s.rng)}:${uuid(this.s.rng)}`).toString("base64"),
      expiresAt: created + durationSeconds * 1000,
      accountId,
      roleName: role.name,
      roleId: role.id,
      rolePath: role.path,
      sessionName,
      created,
    };
    this.s.keys.set(s.accessKeyId, { kind: "session", session: s });
    return s;
  }
}
