import type { Authorizer, Principal } from '@apogee/broker';
import { AccessValidator, type Connection, type RemotingCommand, aclRefusal, ipOfPeer } from '@apogee/remoting';
import { type AclNeed, needsOf } from './request-needs.js';

/**
 * RocketMQ ACL 1.0 on the broker's remoting port, decided by the same users and rules as MQTT
 * and AMQP (docs/security.md): the AccessValidator authenticates (signature, white lists,
 * anonymous access), then each need of the request (request-needs.ts) is checked against the
 * principal's rules through the Authorizer, which caches decisions per principal. Refusals are
 * SYSTEM_ERROR with Apache's remark texts.
 */
export class RemotingAcl {
  private validator: AccessValidator;
  /** The Authorizer generation the validator's accounts were taken from. */
  private generation: number;

  constructor(
    private readonly auth: Authorizer,
    globalWhiteRemoteAddresses: readonly string[] = [],
  ) {
    this.generation = auth.generation;
    this.validator = RemotingAcl.validatorOf(auth, globalWhiteRemoteAddresses);
  }

  /** Accounts and white lists from the section in force (the config's global list at start, the section's after an edit). */
  private static validatorOf(auth: Authorizer, globalWhiteRemoteAddresses: readonly string[]): AccessValidator {
    return new AccessValidator({ accounts: auth.accounts(), allowAnonymous: auth.allowAnonymous, globalWhiteRemoteAddresses });
  }

  /** A RemotingServer guard: the refusal to send, or null to let the request through. */
  readonly guard = (req: RemotingCommand, conn: Connection): RemotingCommand | null => {
    // An edited `auth` section (admin API) takes effect with the next request.
    if (this.generation !== this.auth.generation) {
      this.generation = this.auth.generation;
      this.validator = RemotingAcl.validatorOf(this.auth, this.auth.config.globalWhiteRemoteAddresses);
    }
    const d = this.validator.validate(req, ipOfPeer(conn.remote));
    if (!d.ok) return aclRefusal(req, d.message);
    if (d.whitelisted) return null;
    const p = this.auth.principalOfAccessKey(d.accessKey);
    if (!p) return aclRefusal(req, `No acl config for ${d.accessKey}`);
    const needs = needsOf(req);
    for (let i = 0; i < needs.length; i++) {
      const refusal = this.refusalFor(p, needs[i]!, req, d.accessKey);
      if (refusal !== null) return aclRefusal(req, refusal);
    }
    return null;
  };

  private refusalFor(p: Principal, need: AclNeed, req: RemotingCommand, accessKey: string | undefined): string | null {
    switch (need.kind) {
      case 'admin':
        return p.admin ? null : `Need admin permission for request code=${req.code}, but accessKey=${accessKey ?? '(anonymous)'} is not`;
      case 'topic':
        return this.auth.mayAccessStoreTopic(p, need.topic, need.access) ? null : `No default permission for topic:${need.topic}`;
      case 'group':
        return this.auth.mayUseGroup(p, need.group) ? null : `No default permission for group:${need.group}`;
      case 'mqttPublish':
        return this.auth.canPublish(p, need.topic) ? null : `No permission to publish to MQTT topic ${need.topic}`;
    }
  }
}
