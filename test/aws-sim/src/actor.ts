/**
 * Who is calling: an IAM user (long-term key), an assumed-role session, the simulator's admin API, or an Identity
 * Center user (a mutation made "on behalf of" one, as the Identity Center console does).
 */
export interface ActorInit {
  kind: "IAMUser" | "AssumedRole" | "Admin" | "IdentityCenterUser";
  accountId: string;
  accessKeyId?: string;
  userName?: string;
  userId?: string;
  roleName?: string;
  roleId?: string;
  rolePath?: string;
  sessionName?: string;
  sessionCreated?: number;
  userPath?: string;
  /** IdentityCenterUser: the Identity Store user id and the store's ARN. */
  onBehalfOf?: { userId: string; identityStoreArn: string };
}
export class Actor {
  userAgent?: string;
  constructor(readonly init: ActorInit) {}
  get accountId(): string {
    return this.init.accountId;
  }
  get accessKeyId(): string | undefined {
    return this.init.accessKeyId;
  }
  get kind(): ActorInit["kind"] {
    return this.init.kind;
  }
  get arn(): string {
    const i = this.init;
    if (i.kind === "IAMUser") return `arn:aws:iam::${i.accountId}:user${i.userPath ?? "/"}${i.userName}`;
    if (i.kind === "AssumedRole")
      return `arn:aws:sts::${i.accountId}:assumed-role/${i.roleName}/${i.sessionName}`;
    return `arn:aws:iam::${i.accountId}:root`;
  }
  get principalId(): string {
    const i = this.init;
    if (i.kind === "IAMUser") return i.userId ?? "";
    if (i.kind === "AssumedRole") return `${i.roleId}:${i.sessionName}`;
    return i.accountId;
  }
  trailUsername(): string {
    const i = this.init;
    return i.kind === "IAMUser"
      ? (i.userName ?? "")
      : i.kind === "AssumedRole"
        ? (i.sessionName ?? "")
        : i.kind === "IdentityCenterUser"
          ? (i.onBehalfOf?.userId ?? "")
          : "root";
  }
  userIdentity(): Record<string, unknown> {
    const i = this.init;
    if (i.kind === "IAMUser")
      return {
        type: "IAMUser",
        principalId: this.principalId,
        arn: this.arn,
        accountId: i.accountId,
        accessKeyId: i.accessKeyId,
        userName: i.userName,
      };
    if (i.kind === "AssumedRole")
      return {
        type: "AssumedRole",
        principalId: this.principalId,
        arn: this.arn,
        accountId: i.accountId,
        accessKeyId: i.accessKeyId,
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: i.roleId,
            arn: `arn:aws:iam::${i.accountId}:role${i.rolePath ?? "/"}${i.roleName}`,
            accountId: i.accountId,
            userName: i.roleName,
          },
          attributes: {
            creationDate: new Date(i.sessionCreated ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
            mfaAuthenticated: "false",
          },
        },
      };
    // Since 2025 Identity Center callers carry no user name or principalId, only the ids in onBehalfOf.
    if (i.kind === "IdentityCenterUser")
      return { type: "IdentityCenterUser", accountId: i.accountId, onBehalfOf: i.onBehalfOf };
    return {
      type: "Root",
      principalId: i.accountId,
      arn: this.arn,
      accountId: i.accountId,
      invokedBy: "aws-sim-admin",
    };
  }
}
