import { describe, expect, it } from 'vitest';
import { quoteBareIntegerKeys } from './json-body.js';

describe('quoteBareIntegerKeys', () => {
  it('quotes integer keys outside strings only', () => {
    const text = '{"brokerAddrs":{0:"1.2.3.4:10911", 1 :"x,2:y"},"s":"{3:4}"}';
    expect(JSON.parse(quoteBareIntegerKeys(text))).toEqual({ brokerAddrs: { '0': '1.2.3.4:10911', '1': 'x,2:y' }, s: '{3:4}' });
  });

  it('keeps escaped quotes inside strings', () => {
    const text = '{"a":"he said \\"{1:2}\\"",5:true}';
    expect(JSON.parse(quoteBareIntegerKeys(text))).toEqual({ a: 'he said "{1:2}"', '5': true });
  });
});
