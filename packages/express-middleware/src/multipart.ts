/**
 * A second look at a multipart/form-data body, alongside multer: busboy silently skips a part
 * whose headers it cannot parse (an unescaped `"` in a filename, say), so the upload would look
 * like a form without the file. {@link FormScanner} reads the same bytes, finds each part's
 * headers and says which part was malformed and how, so the client hears that instead.
 *
 * It keeps at most one part's headers (16 KiB, busboy's own limit) and a boundary's length of
 * bytes between chunks; it never holds the file.
 */

/** Largest header block of one part, as busboy allows. */
const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** RFC 9110 tchar: the characters of a token (busboy's TOKEN table). */
function isTokenChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(code))
  );
}

/** Characters allowed unescaped in a quoted-string (busboy's QDTEXT: tab, space to ~ but " and \, 0x80 up). */
function isQuotedChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x22 && code !== 0x5c && code !== 0x7f);
}

/**
 * What is wrong with a part's `Content-Disposition` value (latin1-decoded, as busboy reads it),
 * in words, or `undefined` when busboy would accept it. Follows busboy's parser.
 */
export function dispositionProblem(value: string): string | undefined {
  let i = 0;
  while (i < value.length && isTokenChar(value.charCodeAt(i))) i++;
  const type = value.slice(0, i);
  if (type.toLowerCase() !== 'form-data') {
    return type ? `its Content-Disposition is "${type}", not form-data` : 'its Content-Disposition header is empty or does not start with form-data';
  }
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i === value.length) return undefined;
    if (value[i] !== ';') {
      return `its Content-Disposition header has ${JSON.stringify(value.slice(i, i + 20))} where a ";" should separate parameters ` +
        '(an unescaped " inside a quoted filename or field name ends it early)';
    }
    i++;
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i === value.length) return 'its Content-Disposition header ends with a ";"';
    const nameStart = i;
    while (i < value.length && isTokenChar(value.charCodeAt(i))) i++;
    const name = value.slice(nameStart, i);
    if (!name || value[i] !== '=') return `its Content-Disposition header has a parameter without a name or "=" at ${JSON.stringify(value.slice(nameStart, nameStart + 20))}`;
    i++;
    if (name.endsWith('*')) {
      // RFC 8187 ext-value: charset'language'percent-encoded.
      const m = /^[A-Za-z0-9!#$%&+^_`{}~-]+'[^']*'((?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-Fa-f]{2})+)/.exec(value.slice(i));
      if (!m) return `its Content-Disposition parameter ${name} is not charset'language'percent-encoded text`;
      i += m[0].length;
    } else if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return `its Content-Disposition parameter ${name} has no closing quote`;
        const code = value.charCodeAt(i);
        if (code === 0x22) break;
        if (code === 0x5c) {
          i += 2;
          continue;
        }
        if (!isQuotedChar(code)) return `its Content-Disposition parameter ${name} holds a control character`;
        i++;
      }
      i++;
    } else {
      const valueStart = i;
      while (i < value.length && isTokenChar(value.charCodeAt(i))) i++;
      if (i === valueStart) return `its Content-Disposition parameter ${name} has no value`;
    }
  }
  return undefined;
}

/** Reads a multipart body chunk by chunk and notes the first part busboy would skip or choke on. */
export class FormScanner {
  /** The first problem found: which part, and what is wrong with it. */
  problem: string | undefined;
  /** Parts whose headers were read. */
  parts = 0;
  private readonly delimiter: Buffer;
  private state: 'body' | 'boundary-line' | 'headers' | 'done' = 'body';
  // A body may open with the boundary itself: a CRLF in front makes it a delimiter like the others.
  private pending: Buffer = Buffer.from(CRLF);

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** The boundary of a multipart/form-data Content-Type, or `undefined`. */
  static boundaryOf(contentType: string | undefined): string | undefined {
    const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType ?? '');
    return m ? (m[1] ?? m[2]) : undefined;
  }

  push(chunk: Buffer): void {
    if (this.state === 'done') return;
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    for (;;) {
      if (this.state === 'body') {
        const at = buf.indexOf(this.delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter cut by the chunk's end.
          this.pending = Buffer.from(buf.subarray(Math.max(0, buf.length - this.delimiter.length + 1)));
          return;
        }
        buf = buf.subarray(at + this.delimiter.length);
        this.state = 'boundary-line';
      } else if (this.state === 'boundary-line') {
        if (buf.length < 2) {
          this.pending = Buffer.from(buf);
          return;
        }
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          this.state = 'done'; // the closing delimiter
          return;
        }
        const eol = buf.indexOf(CRLF);
        if (eol < 0) {
          if (buf.length > 256) return this.fail(`part ${this.parts + 1} has no line break after its boundary`);
          this.pending = Buffer.from(buf);
          return;
        }
        // Keep the CRLF: an empty header block then reads as CRLF CRLF.
        buf = buf.subarray(eol);
        this.state = 'headers';
      } else if (this.state === 'headers') {
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES + 4) return this.fail(`the headers of part ${this.parts + 1} are longer than 16 KiB`);
          this.pending = Buffer.from(buf);
          return;
        }
        this.parts += 1;
        const problem = headersProblem(buf.subarray(2, end).toString('latin1'));
        if (problem) return this.fail(`part ${this.parts}: ${problem}`);
        buf = buf.subarray(end + HEADER_END.length);
        this.state = 'body';
      } else {
        return;
      }
    }
  }

  private fail(problem: string): void {
    this.problem ??= problem;
    this.state = 'done';
    this.pending = Buffer.alloc(0);
  }
}

function headersProblem(block: string): string | undefined {
  const lines: string[] = [];
  for (const line of block.split('\r\n')) {
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && lines.length) lines[lines.length - 1] += ` ${line.trim()}`;
    else lines.push(line);
  }
  const disposition = lines.find((l) => /^content-disposition\s*:/i.test(l));
  if (disposition === undefined) return 'it has no Content-Disposition header';
  return dispositionProblem(disposition.slice(disposition.indexOf(':') + 1).trim());
}
