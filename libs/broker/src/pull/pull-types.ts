import type { GetStatus, StoredMessage } from '@apogee/store';

/** PullSysFlag bits. */
export const PullFlag = { COMMIT_OFFSET: 1, SUSPEND: 2, SUBSCRIPTION: 4, CLASS_FILTER: 8, LITE_PULL: 16 } as const;

/** A protocol-neutral PULL_MESSAGE. */
export interface PullRequest {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
  maxMsgNums: number;
  sysFlag: number;
  /** Stored as the group's offset when sysFlag has COMMIT_OFFSET and it is ≥ 0. */
  commitOffset?: number;
  /** How long a pull that finds nothing may be held for arrivals (SUSPEND flag). */
  suspendTimeoutMs: number;
  /** The tag expression, used when sysFlag has SUBSCRIPTION (else the heartbeat's). */
  subscription?: string;
  expressionType?: string;
  maxMsgBytes?: number;
}

/**
 * FOUND: messages returned. NOT_FOUND: nothing new (PULL_NOT_FOUND). RETRY_IMMEDIATELY: entries
 * were there but none matched the filter. OFFSET_MOVED: the offset was illegal; adopt nextBeginOffset.
 */
export type PullKind = 'FOUND' | 'NOT_FOUND' | 'RETRY_IMMEDIATELY' | 'OFFSET_MOVED';

export interface PullOutcome {
  kind: PullKind;
  storeStatus: GetStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  messages: StoredMessage[];
}
