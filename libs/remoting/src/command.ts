/**
 * The remoting command model (RocketMQ RemotingCommand.java), independent of its wire encoding.
 */

/** Header encodings; the value is the top byte of the frame's header word. */
export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** LanguageCode.java: enum name → byte used by the ROCKETMQ binary header. */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;
export type LanguageName = keyof typeof LanguageCode;

const LANGUAGE_BY_CODE: ReadonlyMap<number, LanguageName> = new Map((Object.keys(LanguageCode) as LanguageName[]).map((name) => [LanguageCode[name], name]));

/** Language name of a LanguageCode byte, or undefined if unknown. */
export function languageName(code: number): LanguageName | undefined {
  return LANGUAGE_BY_CODE.get(code);
}

/** LanguageCode byte of a language name, or undefined if unknown. */
export function languageCode(name: string): number | undefined {
  return Object.hasOwn(LanguageCode, name) ? LanguageCode[name as LanguageName] : undefined;
}

/** Flag bit 0: the command is a response (RemotingCommand RPC_TYPE). */
export const FLAG_RESPONSE = 1;
/** Flag bit 1: the request expects no response (RemotingCommand RPC_ONEWAY). */
export const FLAG_ONEWAY = 2;

/** MQVersion ordinal of V5_3_3, the version Apogee puts on the commands it creates. */
export const DEFAULT_VERSION = 479;
/** Language Apogee puts on the commands it creates (a Java broker says JAVA). */
export const DEFAULT_LANGUAGE: LanguageName = 'JAVA';

export interface RemotingCommand {
  /** Request code for requests, response code for responses (Java int). */
  code: number;
  /** LanguageCode enum name, e.g. 'JAVA'. */
  language: string;
  /** MQVersion ordinal of the sender. */
  version: number;
  /** Request id (Java int); a response echoes its request's opaque. */
  opaque: number;
  /** Bit 0 response, bit 1 oneway. */
  flag: number;
  remark?: string;
  /** The "custom header": string → string. */
  extFields: Record<string, string>;
  body?: Buffer;
}

/** A command without its body: what a header carries. */
export type RemotingHeader = Omit<RemotingCommand, 'body'>;

export function isResponse(cmd: Pick<RemotingCommand, 'flag'>): boolean {
  return (cmd.flag & FLAG_RESPONSE) !== 0;
}

export function isOneway(cmd: Pick<RemotingCommand, 'flag'>): boolean {
  return (cmd.flag & FLAG_ONEWAY) !== 0;
}

let opaqueCounter = 0;

/** Next request id of this process: 1, 2, … wrapping before the Java int limit. */
export function nextOpaque(): number {
  opaqueCounter = opaqueCounter >= 0x7fffffff ? 1 : opaqueCounter + 1;
  return opaqueCounter;
}

export interface RequestInit {
  extFields?: Record<string, string>;
  body?: Buffer;
  remark?: string;
  /** Defaults to nextOpaque(). */
  opaque?: number;
  oneway?: boolean;
  language?: string;
  version?: number;
}

/** A request. `init.extFields` becomes the command's own (not copied): pass a fresh object. */
export function makeRequest(code: number, init: RequestInit = {}): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: init.language ?? DEFAULT_LANGUAGE,
    version: init.version ?? DEFAULT_VERSION,
    opaque: init.opaque ?? nextOpaque(),
    flag: init.oneway ? FLAG_ONEWAY : 0,
    extFields: init.extFields ?? {},
  };
  if (init.remark !== undefined) cmd.remark = init.remark;
  if (init.body !== undefined) cmd.body = init.body;
  return cmd;
}

export interface ResponseInit {
  extFields?: Record<string, string>;
  body?: Buffer;
  remark?: string;
  language?: string;
  version?: number;
}

/** A response to `request`: same opaque, flag = response (RemotingCommand.createResponseCommand). */
export function makeResponse(request: Pick<RemotingCommand, 'opaque'>, code: number, init: ResponseInit = {}): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: init.language ?? DEFAULT_LANGUAGE,
    version: init.version ?? DEFAULT_VERSION,
    opaque: request.opaque,
    flag: FLAG_RESPONSE,
    extFields: { ...init.extFields },
  };
  if (init.remark !== undefined) cmd.remark = init.remark;
  if (init.body !== undefined) cmd.body = init.body;
  return cmd;
}
