import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { overBudget, pageWeights } from '../src/page-weights';
import { builtPages } from './support/static';

// Issue 15's budgets on the production build npm test already made (no build of its own); the bench
// (bench/src/web-budget.ts) prints the same figures against the whole-stylesheet baseline.
describe('the production build of the pages', () => {
  it('keeps every page within its gzipped JavaScript and CSS budgets', async () => {
    const weights = await pageWeights(await builtPages());
    // a page found loading nothing would pass any budget: each must load its script and its stylesheet
    assert.ok(
      weights.some(({ page }) => page === 'form.html') && weights.some(({ page }) => page === 'call.html'),
    );
    for (const { page, js, css, jsGzip, cssGzip } of weights) {
      assert.ok(js.length > 0 && jsGzip > 0, `${page} loads no JavaScript`);
      assert.equal(css.length, 1, `${page} loads one stylesheet of its own, not ${css.join(', ')}`);
      assert.ok(cssGzip > 0, `${page}'s stylesheet is empty`);
    }
    assert.deepEqual(overBudget(weights), []);
  });

  it('gives the form page the styles of class names its scripts build, and not NHS.UK rules it never uses', async () => {
    const dist = await builtPages();
    const [form] = (await pageWeights(dist)).filter(({ page }) => page === 'form.html');
    const css = await readFile(path.join(dist, form!.css[0]!), 'utf8');
    const has = (name: string) => new RegExp(`\\.${name}(?![\\w-])`).test(css);
    // nhsuk.ts builds these from templates: `nhsuk-button--${variant}`, `nhsuk-${kind}--error`
    assert.ok(has('nhsuk-button--secondary'), 'a secondary button keeps its style');
    assert.ok(has('nhsuk-input--error') && has('nhsuk-textarea--error'), 'a field in error keeps its style');
    assert.ok(has('nhsuk-form-group--error') && has('nhsuk-error-summary'));
    assert.ok(
      !has('nhsuk-pagination') && !has('nhsuk-header__search'),
      'components the form never shows are left out',
    );
  });
});
