// A small, strict XML reader for tests: enough of XML 1.0 to check that
// generated documents (JUnit) are well-formed and to read them back. It throws
// on anything malformed: unbalanced tags, raw '<' or '&', duplicate attributes,
// unknown entities, characters XML cannot carry, text outside the root.

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element. */
  readonly text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function parseXml(source: string): XmlElement {
  if (FORBIDDEN.test(source)) throw new Error('document holds a character XML 1.0 does not allow');
  let i = 0;
  const fail = (message: string): never => {
    throw new Error(`${message} at offset ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  const skipSpace = (): void => {
    while (i < source.length && /\s/.test(source[i] as string)) i++;
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (_match, entity: string | undefined) => {
      if (entity === undefined) return fail('bare "&"');
      if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
      const value = ENTITIES[entity];
      return value ?? fail(`unknown entity &${entity};`);
    });
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i);
        if (end === -1) fail('unterminated comment');
        i = end + 3;
      } else if (source.startsWith('<?', i)) {
        const end = source.indexOf('?>', i);
        if (end === -1) fail('unterminated processing instruction');
        i = end + 2;
      } else return;
    }
  };

  const element = (): XmlElement => {
    if (source[i] !== '<') fail('expected "<"');
    i++;
    const name = NAME.exec(source.slice(i))?.[0] ?? fail('expected an element name');
    i += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      if (i === before) fail('expected whitespace before an attribute');
      const attr = NAME.exec(source.slice(i))?.[0] ?? fail('expected an attribute name');
      i += attr.length;
      skipSpace();
      if (source[i] !== '=') fail('expected "="');
      i++;
      skipSpace();
      const quote = source[i];
      if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
      const end = source.indexOf(quote as string, i + 1);
      if (end === -1) fail('unterminated attribute value');
      const raw = source.slice(i + 1, end);
      if (raw.includes('<')) fail('"<" inside an attribute value');
      if (attr in attributes) fail(`duplicate attribute ${attr}`);
      attributes[attr] = decode(raw);
      i = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (i >= source.length) fail(`unclosed element <${name}>`);
      if (source.startsWith('</', i)) {
        i += 2;
        const closing = NAME.exec(source.slice(i))?.[0] ?? fail('expected a closing tag name');
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        i += closing.length;
        skipSpace();
        if (source[i] !== '>') fail('expected ">"');
        i++;
        return { name, attributes, children, text };
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i);
        if (end === -1) fail('unterminated comment');
        i = end + 3;
      } else if (source.startsWith('<![CDATA[', i)) {
        const end = source.indexOf(']]>', i);
        if (end === -1) fail('unterminated CDATA');
        text += source.slice(i + 9, end);
        i = end + 3;
      } else if (source[i] === '<') {
        children.push(element());
      } else {
        const end = source.indexOf('<', i);
        const raw = source.slice(i, end === -1 ? source.length : end);
        if (raw.includes(']]>')) fail('"]]>" in character data');
        text += decode(raw);
        i += raw.length;
      }
    }
  };

  skipMisc();
  const root = element();
  skipMisc();
  if (i !== source.length) fail('content after the root element');
  return root;
}

/** Children with this element name. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
