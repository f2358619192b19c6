// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import path from 'node:path';
import { isInside, joinName, parseName, parsePrefix, parseUploadName } from '../../../src/shared/names.js';
import { StatusError } from '../../../src/shared/statusError.js';

function rejection(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    return err as StatusError;
  }
  throw new Error('expected a rejection');
}

describe('parseName', () => {
  it('splits a relative name into its parts', () => {
    expect(parseName('a.bin')).to.deep.equal(['a.bin']);
    expect(parseName('logs/2026/x..y')).to.deep.equal(['logs', '2026', 'x..y']);
    expect(parseName('..hidden')).to.deep.equal(['..hidden']);
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /it is empty/],
    ['absolute', '/etc/passwd', /absolute/],
    ['parent part', '../secret', /'\.\.'/],
    ['parent part inside', 'a/../../b', /'\.\.'/],
    ['dot part', './a', /'\.'/],
    ['NUL byte', 'a\0b', /NUL/],
    ['empty part', 'a//b', /empty part/],
    ['trailing slash', 'a/', /empty part/],
    ['backslash', 'a\\..\\b', /'\\'/],
    ['over-long', 'x'.repeat(1025), /longer than 1024/],
    ['over-long part', `${'x'.repeat(256)}/a`, /longer than 255/],
  ];
  for (const [what, name, message] of bad) {
    it(`refuses a name that is ${what} with INVALID_ARGUMENT`, () => {
      const err = rejection(() => parseName(name));
      expect(err).to.be.instanceOf(StatusError);
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.message).to.match(message);
    });
  }

  it('accepts a name of exactly 1024 bytes with parts of exactly 255', () => {
    const name = ['a'.repeat(255), 'b'.repeat(255), 'c'.repeat(255), 'd'.repeat(254), 'e'].join('/');
    expect(Buffer.byteLength(name)).to.equal(1024);
    expect(parseName(name)).to.have.length(5);
  });

  it('refuses a name of plain characters one byte over 1024, though each part is short enough', () => {
    const name = ['a'.repeat(255), 'b'.repeat(255), 'c'.repeat(255), 'd'.repeat(255), 'e'].join('/');
    expect(Buffer.byteLength(name)).to.equal(1025);
    const err = rejection(() => parseName(name));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.match(/longer than 1024/);
  });

  it('decides every short name as the rules say, plain or not', () => {
    // Every name of up to 5 characters over an alphabet that makes empty,
    // '.', '..' and leading or trailing parts, checked against the rules
    // written out once more here.
    const alphabet = ['a', '.', '/', '-'];
    const names = [''];
    for (let length = 1; length <= 5; length += 1)
      for (const shorter of names.filter((n) => n.length === length - 1)) for (const c of alphabet) names.push(shorter + c);
    const valid = (name: string) => name !== '' && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
    for (const name of names) {
      const accepted = (() => {
        try {
          parseName(name);
          return true;
        } catch {
          return false;
        }
      })();
      expect(accepted, JSON.stringify(name)).to.equal(valid(name));
    }
  });

  it('joins a name under a folder exactly as path.join joins its parts', () => {
    for (const folder of ['out', './out', 'out/', '/', '.', './', '', '/a/b/', '../x', 'a/../b', 'a//b']) {
      for (const name of ['f', 'd/f.bin', '.hidden/x', 'é/ü b'])
        expect(joinName(folder, name), `${folder} + ${name}`).to.equal(path.join(folder, ...name.split('/')));
    }
    expect(rejection(() => joinName('out', '../x')).code).to.equal(status.INVALID_ARGUMENT);
  });

  it('takes a name of other characters of exactly 1024 bytes, and a part of exactly 255', () => {
    // Past the plain-name shortcut: the byte counts themselves decide.
    const part = `${'é'.repeat(127)}a`;
    const name = [part, part, part, 'é'.repeat(127), 'a'].join('/');
    expect(Buffer.byteLength(name)).to.equal(1024);
    expect(parseName(name)).to.have.length(5);
    expect(() => parseName(`${name}b`)).to.throw(/longer than 1024/);
    expect(parseName(`${'é'.repeat(127)}a`)).to.have.length(1);
    expect(() => parseName(`${'é'.repeat(127)}ab`)).to.throw(/longer than 255/);
  });

  it('refuses to upload under the name of a partial, wherever it stands', () => {
    expect(parseUploadName('logs/a.partial')).to.deep.equal(['logs', 'a.partial']);
    expect(parseUploadName('x.part/a')).to.deep.equal(['x.part', 'a']);
    expect(parseUploadName('a/x.part/b')).to.deep.equal(['a', 'x.part', 'b']);
    expect(rejection(() => parseUploadName('a.part')).code).to.equal(status.INVALID_ARGUMENT);
    expect(rejection(() => parseUploadName('a/b/c.part')).code).to.equal(status.INVALID_ARGUMENT);
    const err = rejection(() => parseUploadName('logs/a.part'));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.equal('invalid name "logs/a.part": names ending in .part are kept for partial files');
  });

  it('counts the length in UTF-8 bytes, not characters', () => {
    expect(rejection(() => parseName('é'.repeat(513))).code).to.equal(status.INVALID_ARGUMENT);
    expect(parseName('é'.repeat(127))).to.have.length(1);
  });
});

describe('parsePrefix', () => {
  it('accepts empty, folder and partial-name prefixes', () => {
    expect(parsePrefix('')).to.equal('');
    expect(parsePrefix('logs/')).to.equal('logs/');
    expect(parsePrefix('logs/2026-')).to.equal('logs/2026-');
    expect(parsePrefix('l')).to.equal('l');
    expect(parsePrefix('logs/.e')).to.equal('logs/.e');
  });

  it('refuses prefixes that climb out', () => {
    expect(rejection(() => parsePrefix('../')).code).to.equal(status.INVALID_ARGUMENT);
    expect(rejection(() => parsePrefix('/abs')).code).to.equal(status.INVALID_ARGUMENT);
    expect(rejection(() => parsePrefix('a/../')).code).to.equal(status.INVALID_ARGUMENT);
  });
});

describe('isInside', () => {
  it('holds for paths below the root, not the root itself, its parent, or a sibling sharing its prefix', () => {
    expect(isInside('/srv/root', '/srv/root/a')).to.equal(true);
    expect(isInside('/srv/root', '/srv/root/a/..b')).to.equal(true);
    expect(isInside('/srv/root', '/srv/root')).to.equal(false);
    expect(isInside('/srv/root', '/srv')).to.equal(false);
    expect(isInside('/srv/root', '/srv/root-old/a')).to.equal(false);
    expect(isInside('/srv/root', '/etc/passwd')).to.equal(false);
  });
});
