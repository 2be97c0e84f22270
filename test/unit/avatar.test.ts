import { describe, expect, it } from 'vitest';
import { avatarColour, avatarSvg, avatarUrl } from '../../src/accounts/avatar.ts';

describe('avatars', () => {
  it('are the same picture every time for a name, and for the name in any case', () => {
    expect(avatarSvg({ username: 'alice' })).toBe(avatarSvg({ username: 'alice' }));
    expect(avatarSvg({ username: 'Alice' })).toBe(avatarSvg({ username: 'alice' }));
    expect(avatarColour('Alice')).toBe(avatarColour('ALICE'));
  });

  it('differ between people', () => {
    const colours = new Set(['alice', 'bob', 'carol', 'dave', '小明', '小红'].map(avatarColour));
    expect(colours.size).toBeGreaterThan(3);
    expect(avatarSvg({ username: 'alice' })).not.toBe(avatarSvg({ username: 'bob' }));
  });

  it('show the first letter, capitalised, including Chinese', () => {
    expect(avatarSvg({ username: 'bob' })).toMatch(/>B<\/text><\/svg>$/);
    expect(avatarSvg({ username: '小明' })).toMatch(/>小<\/text><\/svg>$/);
  });

  it('escape their text', () => {
    const svg = avatarSvg({ username: '<script>' });
    expect(svg).toContain('>&lt;</text>');
    expect(svg).not.toContain('<script');
    expect(avatarSvg({ username: '&x' })).toContain('>&amp;</text>');
  });

  it('are a neutral question mark for nobody', () => {
    const svg = avatarSvg(null);
    expect(svg).toContain('fill="#6c757d"');
    expect(svg).toMatch(/>\?<\/text><\/svg>$/);
  });

  it('use colours dark enough for white letters', () => {
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', '小明', 'yellowish', 'zz']) {
      const hex = avatarColour(name);
      expect(hex).toMatch(/^#[0-9a-f]{6}$/);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      const contrast = 1.05 / (0.2126 * r! + 0.7152 * g! + 0.0722 * b! + 0.05);
      expect(contrast, `${name} ${hex}`).toBeGreaterThanOrEqual(3); // large text, WCAG AA
    }
  });

  it('live at a URL that encodes the name', () => {
    expect(avatarUrl({ username: '小明' })).toBe('/avatars/%E5%B0%8F%E6%98%8E.svg');
  });
});
