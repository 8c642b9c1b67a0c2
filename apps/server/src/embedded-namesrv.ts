import path from 'node:path';
import type { Authorizer } from '@apogee/broker';
import { NameServer, type NameServerOptions, type NamesrvLogger } from '@apogee/namesrv';
import type { AclAccount } from '@apogee/remoting';

export interface EmbeddedNamesrvOptions {
  dataDir: string;
  logger: NamesrvLogger;
  limits: NonNullable<NameServerOptions['limits']>;
  socketGate: NameServerOptions['socketGate'] | undefined;
  /** With an `auth` section: its accounts plus the broker's internal one are checked. */
  acl: { auth: Authorizer; internal: AclAccount } | null;
}

/**
 * The all-in-one server's NameServer: its KV config under the data directory, the `auth`
 * section's accounts (and the embedded broker's per-start credential) checked when ACL is on,
 * and edits of the section (admin API) put in force in it too.
 */
export function embeddedNameServer(o: EmbeddedNamesrvOptions): NameServer {
  const access = (auth: Authorizer, internal: AclAccount) => ({
    accounts: [...auth.accounts(), internal],
    allowAnonymous: auth.config.allowAnonymous,
    globalWhiteRemoteAddresses: auth.config.globalWhiteRemoteAddresses,
  });
  const namesrv = new NameServer({
    kvFile: path.join(o.dataDir, 'namesrv', 'kvConfig.json'),
    logger: o.logger,
    limits: o.limits,
    ...(o.socketGate ? { socketGate: o.socketGate } : {}),
    ...(o.acl ? { access: access(o.acl.auth, o.acl.internal) } : {}),
  });
  const acl = o.acl;
  if (acl) acl.auth.onReplaced(() => namesrv.replaceAccess(access(acl.auth, acl.internal)));
  return namesrv;
}

/** The credential a broker alone signs its registrations with (APOGEE_NAMESRV_ACCESS_KEY / _SECRET_KEY), if set. */
export function namesrvCredentialsFrom(env: NodeJS.ProcessEnv): AclAccount | undefined {
  const accessKey = env['APOGEE_NAMESRV_ACCESS_KEY'];
  const secretKey = env['APOGEE_NAMESRV_SECRET_KEY'];
  if (!accessKey && !secretKey) return undefined;
  if (!accessKey || !secretKey) throw new Error('APOGEE_NAMESRV_ACCESS_KEY and APOGEE_NAMESRV_SECRET_KEY go together');
  return { accessKey, secretKey };
}
