import fc from 'fast-check';
import { edgeStringField, parseJsonObject, stringField } from '../../lambda/signatures/json';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('reading ids at the edges of a JSON body', () => {
  it('reads the first key and the last key of the outermost object, pretty-printed or not', () => {
    const pretty = text('{\n  "id": "evt_1",\n  "object": "event",\n  "data": {"object": {"type": "card"}},\n  "type": "charge.succeeded"\n}\n');
    const compact = text('{"id":"evt_2","data":{},"type":"invoice.paid"}');

    expect([edgeStringField(pretty, 'id', 'first'), edgeStringField(pretty, 'type', 'last')]).toEqual(['evt_1', 'charge.succeeded']);
    expect([edgeStringField(compact, 'id', 'first'), edgeStringField(compact, 'type', 'last')]).toEqual(['evt_2', 'invoice.paid']);
  });

  it('never takes a nested key, a key inside a string, or a key that is not at the edge', () => {
    expect(edgeStringField(text('{"data":{"type":"card"}}'), 'type', 'last')).toBeUndefined();
    expect(edgeStringField(text('{"note":"x\\",\\"type\\":\\"fake\\"}'), 'type', 'last')).toBeUndefined();
    expect(edgeStringField(text('{"object":"event","id":"evt_3"}'), 'id', 'first')).toBeUndefined();
    expect(edgeStringField(text('[{"id":"evt_4"}]'), 'id', 'first')).toBeUndefined();
    expect(edgeStringField(text('{"id":"has \\"escapes\\""}'), 'id', 'first')).toBeUndefined();
  });

  it('agrees with a full parse whenever it finds a value, for any object', () => {
    const values = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string()));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('id', 'type', 'data', 'object', 'x'), values, { minKeys: 1 }), fc.boolean(), (object, pretty) => {
        const body = text(JSON.stringify(object, null, pretty ? 2 : undefined));
        const parsed = parseJsonObject(body);
        const first = edgeStringField(body, 'id', 'first');
        const last = edgeStringField(body, 'type', 'last');
        if (first !== undefined) expect(first).toBe(stringField(parsed, 'id'));
        if (last !== undefined) expect(last).toBe(stringField(parsed, 'type'));
      }),
      { numRuns: 300 },
    );
  });
});
