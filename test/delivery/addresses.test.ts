import { addressRefusal, type AddressPolicy, literalAddress } from '../../lambda/delivery/addresses';

const strict: AddressPolicy = { allowPrivateNetwork: false, allowLoopback: false };
const internal: AddressPolicy = { allowPrivateNetwork: true, allowLoopback: false };
const local: AddressPolicy = { allowPrivateNetwork: false, allowLoopback: true };
const everything: AddressPolicy = { allowPrivateNetwork: true, allowLoopback: true };

describe('addresses refused whatever a destination allows', () => {
  it.each<[string, string]>([
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2002:a9fe:a9fe::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['not an address', 'invalid'],
    ['', 'invalid'],
  ])('%s is refused as %s', (address, refusal) => {
    expect(addressRefusal(address, strict)).toBe(refusal);
    expect(addressRefusal(address, everything)).toBe(refusal);
  });
});

describe('loopback, for local mode only', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1'])('%s is refused outside local mode, even with allowPrivateNetwork', (address) => {
    expect(addressRefusal(address, strict)).toBe('loopback');
    expect(addressRefusal(address, internal)).toBe('loopback');
  });

  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])('%s is allowed in local mode', (address) => {
    expect(addressRefusal(address, local)).toBeUndefined();
  });
});

describe('private networks, only with allowPrivateNetwork', () => {
  it.each(['10.0.0.1', '10.255.255.254', '172.16.0.1', '172.31.255.1', '192.168.1.10', '100.64.0.1', '100.127.255.1', 'fd12:3456::1', 'fc00::1', '::ffff:10.1.2.3', '::ffff:192.168.0.1', '64:ff9b::a00:1'])(
    '%s is refused without allowPrivateNetwork and allowed with it',
    (address) => {
      expect(addressRefusal(address, strict)).toBe('private');
      expect(addressRefusal(address, local)).toBe('private');
      expect(addressRefusal(address, internal)).toBeUndefined();
    },
  );

  it('allowPrivateNetwork opens neither loopback nor the metadata service', () => {
    expect(addressRefusal('127.0.0.1', internal)).toBe('loopback');
    expect(addressRefusal('169.254.169.254', internal)).toBe('metadata');
    expect(addressRefusal('fd00:ec2::254', internal)).toBe('metadata');
  });
});

describe('public unicast', () => {
  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is allowed under every policy',
    (address) => {
      expect(addressRefusal(address, strict)).toBeUndefined();
      expect(addressRefusal(address, everything)).toBeUndefined();
    },
  );
});

describe('literal addresses in URLs', () => {
  it.each<[string, string | undefined]>([
    ['169.254.169.254', '169.254.169.254'],
    ['[fd00:ec2::254]', 'fd00:ec2::254'],
    ['[::ffff:a9fe:a9fe]', '::ffff:a9fe:a9fe'],
    ['::1', '::1'],
    ['hooks.example.com', undefined],
    ['localhost', undefined],
    ['1.2.3', undefined],
  ])('%s is the literal %s', (host, literal) => {
    expect(literalAddress(host)).toBe(literal);
  });

  it('a URL parser turns the short and hex IPv4 forms into the dotted address the rules refuse', () => {
    expect(literalAddress(new URL('http://0xA9FEA9FE/').hostname)).toBe('169.254.169.254');
    expect(literalAddress(new URL('http://2852039166/').hostname)).toBe('169.254.169.254');
    expect(literalAddress(new URL('http://127.1/').hostname)).toBe('127.0.0.1');
  });
});
