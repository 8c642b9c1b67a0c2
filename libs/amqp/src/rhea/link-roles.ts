/* Patch `link-roles` of the inventory (rhea/inventory.ts), installed by serveConnection (rhea/index.ts). */
/*
 * AMQP 1.0 names a link by its name and role (spec 2.6.1): a peer may attach a sending and a
 * receiving link with the same name on one session (Qpid Proton names both "<container>-<address>"
 * by default). rhea's session keeps its links in one object keyed by name alone, so the second
 * attach finds the first link and fails with "Attach already received". The gateway's sessions
 * key that object by name and role instead; rhea's own lookups by name are given the entry of the
 * role in question for the duration of the call.
 */

/** The rhea session internals this relies on. */
interface LinkTable {
  links: Record<string, RoleLink>;
  on_attach(frame: AttachFrame): void;
  remove_link(link: RoleLink): void;
}

interface RoleLink {
  name: string;
  is_sender(): boolean;
}

interface AttachFrame {
  performative: { name: string; role: boolean };
}

interface SessionFactory {
  create_session(...args: unknown[]): unknown;
}

/** The key of our end of a link: the peer's role true (receiver) means we send. */
function roleKey(name: string, weSend: boolean): string {
  return `${weSend ? 'S' : 'R'}\u0000${name}`;
}

/** Makes every session the connection creates from now on key its links by (name, role). */
export function keyLinksByRole(connection: unknown): void {
  const conn = connection as SessionFactory;
  const create = conn.create_session;
  conn.create_session = function (this: SessionFactory, ...args: unknown[]) {
    const session = create.apply(this, args) as LinkTable;
    keySession(session);
    return session;
  };
}

function keySession(session: LinkTable): void {
  const attach = session.on_attach;
  const remove = session.remove_link;
  session.on_attach = function (this: LinkTable, frame: AttachFrame) {
    const links = this.links;
    const { name, role } = frame.performative;
    const key = roleKey(name, role === true);
    // What the bare name held is put back afterwards: a link may be named like another's key.
    const had = Object.hasOwn(links, name);
    const saved = links[name];
    const mine = links[key];
    if (mine) links[name] = mine;
    else delete links[name];
    try {
      attach.call(this, frame);
    } finally {
      const link = links[name];
      if (had) links[name] = saved!;
      else delete links[name];
      if (link) links[key] = link;
    }
  };
  session.remove_link = function (this: LinkTable, link: RoleLink) {
    const links = this.links;
    const had = Object.hasOwn(links, link.name);
    const saved = links[link.name];
    remove.call(this, link);
    if (had && saved !== link) links[link.name] = saved!;
    const key = roleKey(link.name, link.is_sender());
    if (links[key] === link) delete links[key];
  };
}
