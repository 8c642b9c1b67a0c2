import { describe, expect, it } from 'vitest';
import { type OptionSpec, UsageError, parseKeyValues, parseOptions, resolveCommand, splitList } from './args.js';

const specs: OptionSpec[] = [
  { name: 'json', kind: 'flag', help: '' },
  { name: 'help', kind: 'flag', help: '' },
  { name: 'namesrv', kind: 'string', help: '' },
  { name: 'count', kind: 'int', min: 1, help: '' },
  { name: 'topic', kind: 'list', help: '' },
];

const commands = [{ path: ['cluster'] }, { path: ['cluster', 'ha'] }, { path: ['topic', 'create'] }, { path: ['topic', 'list'] }, { path: ['send'] }];

describe('parseOptions', () => {
  it('reads flags, values in both spellings, repeatable lists and positionals in order', () => {
    const a = parseOptions(['A', '--json', '--count', '3', 'B', '--namesrv=h:1', '--topic', 'x', '--topic=y'], specs);
    expect(a.positionals).toEqual(['A', 'B']);
    expect(a.flag('json')).toBe(true);
    expect(a.flag('help')).toBe(false);
    expect(a.int('count')).toBe(3);
    expect(a.str('namesrv')).toBe('h:1');
    expect(a.list('topic')).toEqual(['x', 'y']);
    expect(a.list('missing')).toEqual([]);
  });

  it('treats everything after -- as positionals and -h as --help', () => {
    const a = parseOptions(['-h', '--', '--json', '-x'], specs);
    expect(a.flag('help')).toBe(true);
    expect(a.flag('json')).toBe(false);
    expect(a.positionals).toEqual(['--json', '-x']);
    expect(parseOptions(['-'], specs).positionals).toEqual(['-']);
  });

  it.each([
    [['--nope'], 'unknown option --nope'],
    [['--nope=1'], 'unknown option --nope'],
    [['-x'], 'unknown option -x'],
    [['--count'], 'option --count needs a value'],
    [['--count', 'three'], 'option --count needs an integer, got "three"'],
    [['--count', '1.5'], 'needs an integer'],
    [['--count', '0'], 'must be at least 1'],
    [['--json=yes'], 'takes no value'],
    [['--count', '1', '--count', '2'], 'given twice'],
  ])('refuses %j', (tokens, message) => {
    expect(() => parseOptions(tokens, specs, ['send'])).toThrow(message);
    try {
      parseOptions(tokens, specs, ['send']);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).path).toEqual(['send']);
    }
  });
});

describe('resolveCommand', () => {
  it('finds one- and two-word commands after leading global options', () => {
    expect(resolveCommand(['cluster', '--json'], commands, specs)).toMatchObject({ command: { path: ['cluster'] }, path: ['cluster'], rest: ['--json'] });
    expect(resolveCommand(['--namesrv', 'h:1', '--json', 'topic', 'create', 'T', '--count', '2'], commands, specs)).toEqual({
      command: { path: ['topic', 'create'] },
      path: ['topic', 'create'],
      rest: ['--namesrv', 'h:1', '--json', 'T', '--count', '2'],
    });
    expect(resolveCommand(['--namesrv=h:1', 'send', 'T', 'B'], commands, specs).rest).toEqual(['--namesrv=h:1', 'T', 'B']);
  });

  it('takes the two-word command where a word is a command and a group at once', () => {
    expect(resolveCommand(['cluster', 'ha', '--json'], commands, specs)).toEqual({
      command: { path: ['cluster', 'ha'] },
      path: ['cluster', 'ha'],
      rest: ['--json'],
    });
    expect(resolveCommand(['--json', 'cluster'], commands, specs)).toEqual({ command: { path: ['cluster'] }, path: ['cluster'], rest: ['--json'] });
    // Any other word after it is the one-word command's argument (which it then refuses).
    expect(resolveCommand(['cluster', 'other'], commands, specs)).toEqual({ command: { path: ['cluster'] }, path: ['cluster'], rest: ['other'] });
  });

  it('answers no command for an empty line or --help alone, and a group for `topic --help`', () => {
    expect(resolveCommand([], commands, specs)).toEqual({ command: undefined, path: [], rest: [] });
    expect(resolveCommand(['--help'], commands, specs)).toEqual({ command: undefined, path: [], rest: ['--help'] });
    expect(resolveCommand(['topic', '--help'], commands, specs)).toEqual({ command: undefined, path: ['topic'], rest: ['--help'] });
  });

  it('refuses unknown words and a group without its subcommand', () => {
    expect(() => resolveCommand(['bogus'], commands, specs)).toThrow('unknown command "bogus"');
    expect(() => resolveCommand(['topic', 'drop'], commands, specs)).toThrow('unknown command "topic drop"');
    expect(() => resolveCommand(['topic'], commands, specs)).toThrow('topic needs a subcommand: create, list');
    expect(() => resolveCommand(['topic', '--json'], commands, specs)).toThrow(UsageError);
  });
});

describe('value helpers', () => {
  it('parses KEY=VALUE pairs, keeping "=" in values', () => {
    expect(parseKeyValues(['a=1', 'b=x=y', 'c='], 'prop')).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseKeyValues(['=1'], 'prop')).toThrow('option --prop needs KEY=VALUE');
    expect(() => parseKeyValues(['novalue'], 'prop')).toThrow(UsageError);
  });

  it('splits comma lists and drops empty items', () => {
    expect(splitList('k1,k2')).toEqual(['k1', 'k2']);
    expect(splitList(' a ,, b ')).toEqual(['a', 'b']);
    expect(splitList(undefined)).toEqual([]);
  });
});
