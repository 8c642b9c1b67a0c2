import { clusterCommand } from './cluster.js';
import type { Command } from './command.js';
import { consumeCommand } from './consume.js';
import { groupConsumersCommand, groupProgressCommand } from './group.js';
import { hashPasswordCommand } from './hash-password.js';
import { messageGetCommand, messageKeyCommand, messageTraceCommand, messageUniqCommand } from './message.js';
import { sendCommand } from './send.js';
import { topicCreateCommand, topicDescribeCommand, topicListCommand } from './topic.js';
import { transactionListCommand } from './transaction.js';

export type { Command } from './command.js';

/** Every command, in the order the usage lists them. */
export const COMMANDS: readonly Command[] = [
  clusterCommand,
  topicCreateCommand,
  topicListCommand,
  topicDescribeCommand,
  groupProgressCommand,
  groupConsumersCommand,
  messageGetCommand,
  messageKeyCommand,
  messageUniqCommand,
  messageTraceCommand,
  transactionListCommand,
  sendCommand,
  consumeCommand,
  hashPasswordCommand,
];
