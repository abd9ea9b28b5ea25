import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressRefusal,
  checkHostName,
  checkOutboundUrl,
  classifyAddress,
  connectionRefusal,
  OutboundRefused,
  strictOutbound,
} from '../src/index';

const dev = { allowLoopbackHttp: true };

describe('the outbound address check', () => {
  it('lets public IPv4 and IPv6 unicast addresses through', () => {
    for (const address of ['8.8.8.8', '51.140.1.1', '2606:4700:4700::1111', '2a00:1450:4009:81f::200e']) {
      assert.equal(classifyAddress(address), undefined, address);
    }
  });

  it('refuses loopback, private, link-local, shared, multicast, unspecified and reserved IPv4', () => {
    const expected: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '127.9.9.9': 'loopback',
      '10.0.0.1': 'private',
      '172.16.5.4': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      '169.254.10.10': 'link-local',
      '100.64.0.1': 'shared',
      '224.0.0.1': 'multicast',
      '255.255.255.255': 'multicast',
      '0.0.0.0': 'unspecified',
      '192.0.2.1': 'reserved',
      '198.18.0.1': 'reserved',
      '240.0.0.1': 'reserved',
    };
    for (const [address, refusal] of Object.entries(expected)) {
      assert.equal(classifyAddress(address), refusal, address);
    }
  });

  it('names cloud metadata addresses as such, the public Azure wire server included', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.170.2',
      '168.63.129.16',
      '100.100.100.200',
      'fd00:ec2::254',
    ]) {
      assert.equal(classifyAddress(address), 'metadata', address);
    }
  });

  it('refuses IPv6 loopback, unique-local, link-local (with a zone), multicast and unspecified', () => {
    const expected: Record<string, string> = {
      '::1': 'loopback',
      '[::1]': 'loopback',
      'fd12:3456:789a::1': 'private',
      'fc00::1': 'private',
      'fe80::1': 'link-local',
      'fe80::1%eth0': 'link-local',
      'ff02::1': 'multicast',
      '::': 'unspecified',
      '2001:db8::1': 'reserved',
    };
    for (const [address, refusal] of Object.entries(expected)) {
      assert.equal(classifyAddress(address), refusal, address);
    }
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it maps, in either notation', () => {
    assert.equal(classifyAddress('::ffff:127.0.0.1'), 'loopback');
    assert.equal(classifyAddress('::ffff:7f00:1'), 'loopback');
    assert.equal(classifyAddress('::ffff:10.0.0.1'), 'private');
    assert.equal(classifyAddress('::ffff:169.254.169.254'), 'metadata');
    assert.equal(classifyAddress('::ffff:a9fe:a9fe'), 'metadata');
    assert.equal(classifyAddress('::ffff:8.8.8.8'), undefined);
  });

  it('refuses IPv6 that tunnels to an IPv4 address (NAT64, 6to4, Teredo) rather than guess what it reaches', () => {
    for (const address of [
      '64:ff9b::a00:1',
      '64:ff9b::7f00:1',
      '2002:a00:1::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    ]) {
      assert.equal(classifyAddress(address), 'reserved', address);
    }
  });

  it('allows loopback, and only loopback, where the deployment allows it', () => {
    assert.equal(addressRefusal('127.0.0.1', strictOutbound), 'loopback');
    assert.equal(addressRefusal('127.0.0.1', dev), undefined);
    assert.equal(addressRefusal('::1', dev), undefined);
    assert.equal(addressRefusal('::ffff:127.0.0.1', dev), undefined);
    assert.equal(addressRefusal('169.254.169.254', dev), 'metadata');
    assert.equal(addressRefusal('10.0.0.1', dev), 'private');
    assert.equal(addressRefusal('fd00::1', dev), 'private');
  });

  it('allows plain (unencrypted) connections only to loopback, and only where the deployment allows it', () => {
    assert.equal(connectionRefusal('8.8.8.8', strictOutbound, true)?.reason, 'plain-http');
    assert.equal(connectionRefusal('8.8.8.8', dev, true)?.reason, 'plain-http');
    assert.equal(connectionRefusal('127.0.0.1', dev, true), undefined);
    assert.equal(connectionRefusal('127.0.0.1', strictOutbound, true)?.reason, 'loopback');
    assert.equal(connectionRefusal('8.8.8.8', strictOutbound, false), undefined);
  });

  it('refuses a URL that is plain http, not http(s), carries credentials or names a refused host, with a reason staff can read', () => {
    const refusal = (url: string, policy = strictOutbound) => {
      try {
        checkOutboundUrl(url, policy);
        return undefined;
      } catch (error) {
        assert.ok(error instanceof OutboundRefused);
        return error.message;
      }
    };
    assert.equal(refusal('https://gp.example.org/fhir/R4'), undefined);
    assert.equal(
      refusal('http://gp.example.org/fhir/R4'),
      'it is not encrypted (plain http, or SMTP without TLS)',
    );
    assert.equal(refusal('ftp://gp.example.org/'), 'it is not a valid https address');
    assert.equal(refusal('not a url'), 'it is not a valid https address');
    assert.equal(refusal('https://user:pw@gp.example.org/'), 'it has a user name or password in it');
    assert.equal(refusal('https://10.0.0.1/'), 'it is a private network address');
    assert.equal(refusal('https://169.254.169.254/latest/meta-data/'), 'it is a cloud metadata address');
    assert.equal(refusal('https://[::ffff:127.0.0.1]/'), 'it is a loopback address (this server itself)');
    // the URL parser reads these as 127.0.0.1 too
    assert.equal(refusal('https://2130706433/'), 'it is a loopback address (this server itself)');
    assert.equal(refusal('https://0x7f.1/'), 'it is a loopback address (this server itself)');
    assert.equal(refusal('https://localhost:8443/'), 'it is a loopback address (this server itself)');
    assert.equal(refusal('http://127.0.0.1:8103/fhir/R4', dev), undefined);
    assert.equal(refusal('http://localhost:8103/fhir/R4', dev), undefined);
    assert.equal(refusal('http://gp.example.org/', dev), undefined, 'a name: checked when it is resolved');
    assert.equal(refusal('http://10.0.0.1/', dev), 'it is a private network address');
  });

  it('checks an SMTP host given as a name or literal without DNS: localhost and refused literals', () => {
    assert.equal(checkHostName('smtp.example.org', strictOutbound, false), undefined);
    assert.equal(checkHostName('LOCALHOST.', strictOutbound, false)?.reason, 'loopback');
    assert.equal(checkHostName('10.1.2.3', strictOutbound, false)?.reason, 'private');
    assert.equal(checkHostName('::1', strictOutbound, false)?.reason, 'loopback');
  });
});
