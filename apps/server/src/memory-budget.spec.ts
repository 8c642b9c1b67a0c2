import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MQTT_DEFAULTS } from '@apogee/mqtt';
import { STORE_DEFAULTS } from '@apogee/store';
import { describe, expect, it } from 'vitest';
import { parseServerArgs } from './args.js';
import { DEFAULT_MEMORY_BUDGET_MIB, memoryBudgetSettings } from './memory-budget.js';

const MiB = 1024 * 1024;

describe('--memory-budget', () => {
  it('defaults to the budget the store and MQTT defaults are made of', () => {
    expect(parseServerArgs([], {}).memoryBudget).toBe(DEFAULT_MEMORY_BUDGET_MIB);
    const d = memoryBudgetSettings(DEFAULT_MEMORY_BUDGET_MIB);
    expect(d.store).toEqual({ hotTailBytes: STORE_DEFAULTS.hotTailBytes, indexCacheBytes: STORE_DEFAULTS.indexCacheBytes });
    expect(d.mqtt.recordCacheBytes).toBe(MQTT_DEFAULTS.recordCacheBytes);
  });

  it('splits the total among the hot tail, the queue-state cache and the MQTT record cache', () => {
    expect(memoryBudgetSettings(256)).toEqual({
      store: { hotTailBytes: 128 * MiB, indexCacheBytes: 64 * MiB },
      mqtt: { recordCacheBytes: 64 * MiB },
    });
  });

  it('is read from the flag, the environment and the config file, flags first', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apg-args-')), 'c.json');
    fs.writeFileSync(file, JSON.stringify({ memoryBudget: 96 }));
    expect(parseServerArgs(['--config', file], {}).memoryBudget).toBe(96);
    expect(parseServerArgs(['--config', file], { APOGEE_MEMORY_BUDGET: '128' }).memoryBudget).toBe(128);
    expect(parseServerArgs(['--config', file, '--memory-budget=32'], { APOGEE_MEMORY_BUDGET: '128' }).memoryBudget).toBe(32);
  });

  it('refuses what cannot be shared', () => {
    expect(() => parseServerArgs(['--memory-budget', '4'], {})).toThrow(/whole number of MiB >= 8/);
    expect(() => parseServerArgs(['--memory-budget', '12.5'], {})).toThrow(/whole number/);
    expect(() => parseServerArgs([], { APOGEE_MEMORY_BUDGET: 'lots' })).toThrow(/APOGEE_MEMORY_BUDGET/);
  });
});
