import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startTriage } from '@gpc/test-support';
import { chooseEncoding } from '../src/precompress';
import { builtPages, startStaticServer } from './support/static';

/** A GET as a browser sends it, with the raw body (not decoded, unlike fetch). */
function get(
  base: string,
  pathname: string,
  acceptEncoding?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    request(
      {
        host: hostname,
        port,
        path: pathname,
        headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {},
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    )
      .on('error', reject)
      .end();
  });
}

describe('the production web server sends the build compressed to browsers that accept it', async () => {
  const triage = await startTriage({ after }, { listen: true });
  const web = await startStaticServer({ triageUrl: triage.url });
  triage.after(() => web.close());
  const dist = await builtPages();
  const assets = await readdir(path.join(dist, 'assets'));
  const script =
    assets.find((name) => /^form-.*\.js$/.test(name)) ?? assets.find((name) => name.endsWith('.js'));
  const styles = assets.find((name) => name.endsWith('.css'));
  assert.ok(script && styles, 'the build has scripts and styles');

  it('sends brotli, else gzip, of every script, stylesheet and page, identical to the file once decoded', async () => {
    for (const pathname of [`/assets/${script}`, `/assets/${styles}`, '/form.html']) {
      const original = await readFile(path.join(dist, pathname));
      const brotli = await get(web.url, pathname, 'gzip, deflate, br, zstd');
      assert.equal(brotli.status, 200, pathname);
      assert.equal(brotli.headers['content-encoding'], 'br', pathname);
      assert.match(String(brotli.headers.vary), /accept-encoding/i, pathname);
      assert.equal(Number(brotli.headers['content-length']), brotli.body.length, pathname);
      assert.ok(
        brotli.body.length < original.length / 2,
        `${pathname}: ${brotli.body.length} of ${original.length}`,
      );
      assert.deepEqual(brotliDecompressSync(brotli.body), original, pathname);

      const gzip = await get(web.url, pathname, 'gzip, deflate');
      assert.equal(gzip.headers['content-encoding'], 'gzip', pathname);
      assert.deepEqual(gunzipSync(gzip.body), original, pathname);

      // the page's own headers stay: its CSP and caching are the same whatever the encoding
      const plain = await get(web.url, pathname);
      assert.equal(plain.headers['content-encoding'], undefined, pathname);
      assert.deepEqual(plain.body, original, pathname);
      for (const header of ['content-security-policy', 'cache-control', 'content-type'])
        assert.equal(brotli.headers[header], plain.headers[header], `${pathname} ${header}`);
    }
  });

  it('sends a file as it is to a browser that refuses an encoding or accepts none we have', async () => {
    const pathname = `/assets/${script}`;
    const original = await readFile(path.join(dist, pathname));
    for (const acceptEncoding of ['identity', 'br;q=0, gzip;q=0', 'deflate', '*;q=0']) {
      const answer = await get(web.url, pathname, acceptEncoding);
      assert.equal(answer.headers['content-encoding'], undefined, acceptEncoding);
      assert.deepEqual(answer.body, original, acceptEncoding);
    }
    assert.equal((await get(web.url, pathname, 'br;q=0, gzip')).headers['content-encoding'], 'gzip');
  });

  it('never serves a compressed copy for a path outside the build or an image', async () => {
    assert.equal((await get(web.url, '/../package.json', 'br')).status, 404);
    const image = assets.find((name) => /\.(png|ico|woff2)$/.test(name));
    if (image)
      assert.equal((await get(web.url, `/assets/${image}`, 'br')).headers['content-encoding'], undefined);
  });

  it('chooses brotli, then gzip, honouring q=0 and a wildcard', () => {
    assert.equal(chooseEncoding(undefined), undefined);
    assert.equal(chooseEncoding('gzip, deflate, br, zstd'), 'br');
    assert.equal(chooseEncoding('gzip'), 'gzip');
    assert.equal(chooseEncoding('br;q=0, gzip;q=0.5'), 'gzip');
    assert.equal(chooseEncoding('*'), 'br');
    assert.equal(chooseEncoding('*;q=0, gzip'), 'gzip');
    assert.equal(chooseEncoding('identity'), undefined);
  });
});
