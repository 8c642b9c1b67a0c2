import { aclAnonymousCommand, aclShowCommand, aclUserDeleteCommand, aclUserSetCommand } from './acl.js';
import { amqpConnectionsCommand } from './amqp.js';
import { clusterCommand } from './cluster.js';
import { clusterHaCommand } from './cluster-ha.js';
import type { Command } from './command.js';
import { consumeCommand } from './consume.js';
import { groupConsumersCommand, groupProgressCommand, groupResetOffsetCommand, groupSkipBacklogCommand } from './group.js';
import { hashPasswordCommand } from './hash-password.js';
import { messageGetCommand, messageKeyCommand, messageTraceCommand, messageUniqCommand } from './message.js';
import { mqttClientsCommand, mqttDisconnectCommand } from './mqtt.js';
import { sendCommand } from './send.js';
import { timerRecallCommand } from './timer.js';
import { topicCreateCommand, topicDescribeCommand, topicListCommand } from './topic.js';
import { transactionListCommand } from './transaction.js';

export type { Command } from './command.js';

/** Every command, in the order the usage lists them. */
export const COMMANDS: readonly Command[] = [
  clusterCommand,
  clusterHaCommand,
  topicCreateCommand,
  topicListCommand,
  topicDescribeCommand,
  groupProgressCommand,
  groupConsumersCommand,
  groupResetOffsetCommand,
  groupSkipBacklogCommand,
  messageGetCommand,
  messageKeyCommand,
  messageUniqCommand,
  messageTraceCommand,
  transactionListCommand,
  timerRecallCommand,
  mqttClientsCommand,
  mqttDisconnectCommand,
  amqpConnectionsCommand,
  aclShowCommand,
  aclUserSetCommand,
  aclUserDeleteCommand,
  aclAnonymousCommand,
  sendCommand,
  consumeCommand,
  hashPasswordCommand,
];
