import { desiredLrpResponseJson, desiredLrpToJson, type DesiredLRP } from '@diego/models';
import { newValidDesiredLrp } from '@diego/test-support';
import { desiredLrpResponseElement, storedDesiredLrpAsResponse } from './spliced-lists';

const stored = (lrp: DesiredLRP): string => desiredLrpToJson(lrp);
const empties: Partial<DesiredLRP> = { env: [], routes: {}, annotation: '', egress_rules: [] };

// The stored record less what the response leaves out must be exactly what the model's own response writer makes.
describe('a stored DesiredLRP as GET /v1/desired_lrps element', () => {
  const shapes: Array<[string, DesiredLRP]> = [
    ['as the fixtures make it', newValidDesiredLrp('web')],
    ['with every member the response leaves out when empty, empty', newValidDesiredLrp('web', empties)],
    ['with env only', newValidDesiredLrp('web', { ...empties, env: [{ name: 'A', value: 'b' }] })],
    ['with routes only', newValidDesiredLrp('web', { ...empties, routes: { 'cf-router': '[{"port":8080}]' } })],
    ['with an annotation only, escaped', newValidDesiredLrp('web', { ...empties, annotation: 'say "hi" \\ ,"annotation":"' })],
    ['with egress rules only', newValidDesiredLrp('web', { ...empties, egress_rules: newValidDesiredLrp('x').egress_rules })],
    [
      'with routes whose objects hold the keys searched for',
      newValidDesiredLrp('web', { routes: { r: '{"routes":{},"log_guid":"x","env":[],"annotation":""}', empty: '{}' } }),
    ],
    ['with no actions', newValidDesiredLrp('web', { setup: null, action: null, monitor: null })],
  ];

  it.each(shapes)('is the model response, spliced from the stored text, %s', (_name, lrp) => {
    expect(storedDesiredLrpAsResponse(stored(lrp))).toBe(desiredLrpResponseJson(lrp));
  });

  const modelOnly: Array<[string, DesiredLRP]> = [
    ['cached dependencies', newValidDesiredLrp('web', { cached_dependencies: [{ name: 'n', from: 'f', to: 't', cache_key: 'k', log_source: 'l' }] })],
    ['an epoch with an escape', newValidDesiredLrp('web', { modification_tag: { epoch: 'a"b', index: 1 } })],
    ['a legacy download user with an escape', newValidDesiredLrp('web', { legacy_download_user: 'a\\b' })],
  ];

  it.each(modelOnly)('goes through the model for a record with %s, with the same answer', (_name, lrp) => {
    expect(storedDesiredLrpAsResponse(stored(lrp))).toBeNull();
    expect(desiredLrpResponseElement({ json: stored(lrp), lrp: null })).toBe(desiredLrpResponseJson(lrp));
  });

  it('goes through the model for a record written in another shape (indented)', () => {
    const lrp = newValidDesiredLrp('web');
    const handWritten = JSON.stringify(JSON.parse(stored(lrp)) as unknown, null, 1);
    expect(storedDesiredLrpAsResponse(handWritten)).toBeNull();
    expect(desiredLrpResponseElement({ json: handWritten, lrp: null })).toBe(desiredLrpResponseJson(lrp));
  });
});
