// Checks every answer the fake GitHub gave during the test suite (FAKE_GITHUB_RECORD_DIR, one JSON line per answer)
// against GitHub's published OpenAPI description (@octokit/openapi, api.github.com): the answer's operation is found by
// its method and path, and its body is validated against the schema for its status with a JSON-schema validator.
// A missing required field, a wrong type or a status GitHub does not answer with is a failure.
// Usage: node validate.mjs <folder of *.jsonl>. Prints one line per operation and exits 1 on any failure.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const folder = process.argv[2];
const spec = JSON.parse(readFileSync(new URL('./node_modules/@octokit/openapi/generated/api.github.com.json', import.meta.url)));
// OpenAPI 3.0 says "nullable: true" where JSON Schema says the type may be null: rewritten so, everywhere.
const jsonSchema = node => {
  if (Array.isArray(node))
    return node.map(jsonSchema);
  if (node === null || typeof node !== 'object')
    return node;
  const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, jsonSchema(v)]));
  if (copy.nullable !== true)
    return copy;
  delete copy.nullable;
  if (typeof copy.type === 'string') {
    copy.type = [copy.type, 'null'];
    if (Array.isArray(copy.enum) && !copy.enum.includes(null))
      copy.enum = [...copy.enum, null];
    return copy;
  }
  return { anyOf: [copy, { type: 'null' }] };
};
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(jsonSchema(spec), 'gh');

// Path templates as patterns; a template's parameter matches one segment, except those GitHub lets hold slashes.
const multiSegment = new Set(['ref', 'path']);
const operations = [];
for (const [template, item] of Object.entries(spec.paths)) {
  const pattern = new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{([^}]+)\}/g, (_, name) => multiSegment.has(name) ? '(.+)' : '([^/]+)') + '$');
  const literals = template.replace(/\{[^}]+\}/g, '').length;
  for (const method of Object.keys(item)) {
    if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
      operations.push({ template, method: method.toUpperCase(), pattern, literals, operation: item[method] });
  }
}
operations.sort((a, b) => b.literals - a.literals);

const pointer = (...parts) => parts.map(p => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const seen = new Map();
const failures = [];
let answers = 0;

const recorded = readdirSync(folder).filter(f => f.endsWith('.jsonl'))
  .flatMap(file => readFileSync(join(folder, file), 'utf8').replace(/^\uFEFF/, '').split('\n').filter(Boolean).map(line => JSON.parse(line)));

// First, that this check can fail: an issue without its required fields must be refused.
const control = check({ method: 'GET', path: '/repos/acme/widgets/issues/1', status: 200, body: { id: 1, number: 1, title: 'x' } });
if (control.length === 0) {
  console.log('FAIL the check accepts an issue without its required fields: it checks nothing');
  process.exit(1);
}

for (const answer of recorded) {
  answers++;
  failures.push(...check(answer, true));
}

function check(answer, count = false) {
  const failures = [];
  {
    const path = answer.path.split('?')[0];
    const found = operations.find(o => o.method === answer.method && o.pattern.test(path));
    if (!found) {
      failures.push(`${answer.method} ${path}: no such operation in GitHub's description`);
      return failures;
    }
    const key = `${found.method} ${found.template}`;
    if (count) {
      const stats = seen.get(key) ?? { answers: 0, statuses: new Set() };
      stats.answers++;
      stats.statuses.add(answer.status);
      seen.set(key, stats);
    }
    const responses = found.operation.responses ?? {};
    const status = String(answer.status);
    // A rate-limited answer (403/429), and 304 to a conditional request, are what GitHub sends for any operation, described or not.
    if (status === '304' && (answer.body === null || answer.body === undefined))
      return failures;
    if (!(status in responses)) {
      if (!['403', '429'].includes(status))
        failures.push(`${key} answered ${status}, which GitHub does not answer it with (${Object.keys(responses).join(', ')})`);
      return failures;
    }
    let response = responses[status];
    let base = ['paths', found.template, found.method.toLowerCase(), 'responses', status];
    if (response.$ref) {
      base = response.$ref.slice(2).split('/').map(decodeURIComponent);
      response = base.reduce((node, part) => node[part.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
    }
    const media = response.content && Object.keys(response.content).find(m => m.includes('json'));
    if (!media) {
      if (answer.body !== null && answer.body !== undefined && status !== '204')
        failures.push(`${key} ${status}: GitHub's answer has no JSON body, the fake's has one`);
      return failures;
    }
    const validate = ajv.getSchema(`gh#/${pointer(...base, 'content', media, 'schema')}`);
    if (!validate(answer.body)) {
      const errors = [...new Set(validate.errors.map(e => `${e.instancePath || '/'} ${e.message}`))].slice(0, 8);
      failures.push(`${key} ${status}: ${errors.join('; ')}`);
    }
  }
  return failures;
}

for (const [key, stats] of [...seen].sort())
  console.log(`  ${key}: ${stats.answers} answer(s), status ${[...stats.statuses].join('/')}`);
const unique = [...new Set(failures)];
for (const failure of unique)
  console.log(`FAIL ${failure}`);
console.log(`${answers} answers of ${seen.size} operations checked against api.github.com's OpenAPI description: ${unique.length} problem(s)`);
process.exit(answers === 0 || unique.length > 0 ? 1 : 0);
