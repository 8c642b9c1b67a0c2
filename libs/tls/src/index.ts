export * from './tls-settings.js';
export { type TlsMaterial, loadTlsMaterial, readPemFile } from './tls-material.js';
export { ServerTlsContext, type TlsLogger } from './server-context.js';
export { sniff } from './sniff.js';
export { tlsHandOff } from './secure-socket.js';
export { AMQP_TLS_HEADER, type GateRefusal, type SocketGate, TLS_HANDSHAKE_BYTE, amqpTlsHeaderGate, remotingTlsGate } from './socket-gate.js';
export { verifiedPeerName } from './peer-identity.js';
export { TlsListeners, type TlsListenerArgs, type TlsRefusalSink, certificateName } from './tls-listeners.js';
export { REMOTING_TLS_FLAGS, TLS_FLAGS, setTlsArg, tlsArgsFromEnv } from './tls-flags.js';
