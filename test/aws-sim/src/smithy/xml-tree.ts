// A small dependency-free XML parser, adequate for AWS query-protocol responses: elements, attributes,
// text, CDATA, comments, processing instructions and the five named plus numeric character references.
// Not a general XML parser (no DTDs); it throws on malformed input so that a bad response is noticed.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded, untrimmed). */
  text: string;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const named = NAMED[ref];
    if (named === undefined) throw new Error(`unknown XML entity ${whole}`);
    return named;
  });
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Error(`XML parse error at ${pos}: ${msg}`);
  };

  const skipMisc = (): void => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos] ?? "")) pos++;
      if (source.startsWith("<?", pos)) {
        const end = source.indexOf("?>", pos);
        if (end < 0) fail("unterminated processing instruction");
        pos = end + 2;
      } else if (source.startsWith("<!--", pos)) {
        const end = source.indexOf("-->", pos);
        if (end < 0) fail("unterminated comment");
        pos = end + 3;
      } else if (source.startsWith("<!DOCTYPE", pos)) {
        fail("DOCTYPE not supported");
      } else return;
    }
  };

  const readName = (): string => {
    const m = NAME.exec(source.slice(pos, pos + 256));
    if (m === null) return fail("expected a name");
    pos += m[0].length;
    return m[0];
  };

  const parseElement = (): XmlElement => {
    if (source[pos] !== "<") fail("expected <");
    pos++;
    const name = readName();
    const attributes: Record<string, string> = {};
    for (;;) {
      while (/\s/.test(source[pos] ?? "")) pos++;
      const c = source[pos];
      if (c === undefined) fail("unterminated start tag");
      if (c === "/" && source[pos + 1] === ">") {
        pos += 2;
        return { name, attributes, children: [], text: "" };
      }
      if (c === ">") {
        pos++;
        break;
      }
      const attr = readName();
      while (/\s/.test(source[pos] ?? "")) pos++;
      if (source[pos] !== "=") fail(`expected = after attribute ${attr}`);
      pos++;
      while (/\s/.test(source[pos] ?? "")) pos++;
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") return fail("expected quoted attribute value");
      const end = source.indexOf(quote, pos + 1);
      if (end < 0) fail("unterminated attribute value");
      if (attr in attributes) fail(`duplicate attribute ${attr}`);
      attributes[attr] = decodeEntities(source.slice(pos + 1, end));
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      if (pos >= source.length) fail(`unterminated element <${name}>`);
      if (source.startsWith("</", pos)) {
        pos += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        while (/\s/.test(source[pos] ?? "")) pos++;
        if (source[pos] !== ">") fail("expected >");
        pos++;
        return { name, attributes, children, text };
      }
      if (source.startsWith("<!--", pos)) {
        const end = source.indexOf("-->", pos);
        if (end < 0) fail("unterminated comment");
        pos = end + 3;
      } else if (source.startsWith("<![CDATA[", pos)) {
        const end = source.indexOf("]]>", pos);
        if (end < 0) fail("unterminated CDATA");
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith("<?", pos)) {
        const end = source.indexOf("?>", pos);
        if (end < 0) fail("unterminated processing instruction");
        pos = end + 2;
      } else if (source[pos] === "<") {
        children.push(parseElement());
      } else {
        const next = source.indexOf("<", pos);
        const end = next < 0 ? source.length : next;
        const raw = source.slice(pos, end);
        if (raw.includes(">") && raw.includes("]]>")) fail("']]>' in text");
        text += decodeEntities(raw);
        pos = end;
      }
    }
  };

  skipMisc();
  const root = parseElement();
  skipMisc();
  if (pos !== source.length) fail("content after the root element");
  return root;
}

/** First child element with the given name. */
export function childNamed(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}
