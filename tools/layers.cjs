// The layering of docs/ARCHITECTURE.md, in one place, enforced by `npm run lint` (part of `npm test`):
//
//   message ← topics ← store ← broker (the engine) ← endpoints (broker-remoting, mqtt, amqp, grpc) ← apps
//
// Endpoints never import each other or the store. `remoting` (codec + transport) depends on `message`
// only; `namesrv` on remoting and message; `client` (the SDK) on remoting and message only;
// `broker-remoting` may also use remoting and namesrv's codecs. `logging` (the apps' logger: pino,
// the terminal format, the level vocabulary) depends on no other project and only apps and tools use
// it: libraries take a logger from their caller. `tls` (PEM files, the reloadable server context, the
// socket gates of the TLS modes) depends on no other project; the apps wire it to the listeners. `etcd`
// (a client of etcd's JSON gateway, and the harness that runs etcd for tests) depends on no other
// project. `ha` (commit-log replication and the group controller on etcd, docs/ha-design.md) depends
// on the store and etcd only.
// Apps and tools may use anything.
//
// This file is an Nx plugin (nx.json "plugins") that gives every project its layer tags, keyed by the
// project's folder, so a project gets its tags before its package.json says anything (libs/topics,
// libs/grpc). A project that is in no entry below gets no layer tag, and then
// @nx/enforce-module-boundaries refuses every import it makes: add it here. `depConstraints` is what
// eslint.config.js hands to @nx/enforce-module-boundaries.
'use strict';

/** Project folder → tags. */
const projectTags = {
  'libs/message': ['layer:message'],
  'libs/topics': ['layer:topics'],
  'libs/store': ['layer:store'],
  'libs/broker': ['layer:engine'],
  'libs/remoting': ['layer:protocol', 'protocol:remoting'],
  'libs/namesrv': ['layer:protocol', 'protocol:namesrv'],
  'libs/client': ['layer:sdk'],
  'libs/logging': ['layer:logging'],
  'libs/tls': ['layer:tls'],
  'libs/etcd': ['layer:etcd'],
  'libs/ha': ['layer:ha'],
  'libs/broker-remoting': ['layer:endpoint', 'endpoint:remoting'],
  'libs/mqtt': ['layer:endpoint', 'endpoint:mqtt'],
  'libs/amqp': ['layer:endpoint', 'endpoint:amqp'],
  'libs/grpc': ['layer:endpoint', 'endpoint:grpc'],
};

function tagsFor(root) {
  if (projectTags[root]) return projectTags[root];
  if (root.startsWith('apps/')) return ['layer:app'];
  if (root.startsWith('tools/')) return ['layer:tool'];
  return [];
}

// Each constraint applies to every project that carries its sourceTag, and all that apply must hold.
// onlyDependOnLibsWithTags looks at direct dependencies; notDependOnLibsWithTags at everything reachable.
const depConstraints = [
  { sourceTag: 'layer:message', onlyDependOnLibsWithTags: ['layer:message'] },
  { sourceTag: 'layer:topics', onlyDependOnLibsWithTags: ['layer:message'] },
  { sourceTag: 'layer:store', onlyDependOnLibsWithTags: ['layer:message', 'layer:topics'] },
  { sourceTag: 'layer:engine', onlyDependOnLibsWithTags: ['layer:message', 'layer:topics', 'layer:store'] },
  { sourceTag: 'protocol:remoting', onlyDependOnLibsWithTags: ['layer:message'] },
  { sourceTag: 'protocol:namesrv', onlyDependOnLibsWithTags: ['layer:message', 'protocol:remoting'] },
  { sourceTag: 'layer:sdk', onlyDependOnLibsWithTags: ['layer:message', 'protocol:remoting'] },
  { sourceTag: 'layer:logging', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'layer:tls', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'layer:etcd', onlyDependOnLibsWithTags: [] },
  // Replication moves commit-log bytes between stores, and the group controller elects the master
  // over etcd; the engine and the apps drive them.
  { sourceTag: 'layer:ha', onlyDependOnLibsWithTags: ['layer:message', 'layer:store', 'layer:etcd'] },
  // Endpoints: never one another (directly or through anything they use), never the store.
  { sourceTag: 'layer:endpoint', notDependOnLibsWithTags: ['layer:endpoint'] },
  {
    sourceTag: 'endpoint:remoting',
    onlyDependOnLibsWithTags: ['layer:message', 'layer:topics', 'layer:engine', 'layer:protocol'],
  },
  ...['endpoint:mqtt', 'endpoint:amqp', 'endpoint:grpc'].map((sourceTag) => ({
    sourceTag,
    onlyDependOnLibsWithTags: ['layer:message', 'layer:topics', 'layer:engine'],
  })),
  { sourceTag: 'layer:app', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'layer:tool', onlyDependOnLibsWithTags: ['*'] },
];

/** @type {import('nx/src/project-graph/plugins').CreateNodesV2} */
const createNodesV2 = [
  '{libs,apps,tools}/*/package.json',
  (files) =>
    files.map((file) => {
      const root = file.slice(0, file.lastIndexOf('/'));
      const tags = tagsFor(root);
      return [file, { projects: tags.length ? { [root]: { tags } } : {} }];
    }),
];

// Tests of an endpoint may open a real store under the engine they hand it, and look into what it
// holds (the endpoints' own sources may not): the same constraints, with the store allowed.
const testDepConstraints = depConstraints.map((c) =>
  c.sourceTag.startsWith('endpoint:') ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'layer:store'] } : c,
);

module.exports = { name: 'apogee-layers', createNodesV2, projectTags, depConstraints, testDepConstraints };
