// A Server-Sent Events reader, without I/O: text in (as it arrives, split anywhere), events out.
// Follows the WHATWG "event stream interpretation": lines end in CRLF, LF or CR; a line starting
// with ':' is a comment (the origin's heartbeats); `data` lines join with '\n'; a blank line
// dispatches; `id` sets the last event id (kept across events, as EventSource does); `retry` with
// only digits sets the reconnection time.

export class SseParser {
  #buffer = '';
  #data = [];
  #type = '';
  #hasData = false;
  /** The last `id:` seen (EventSource's "last event ID string"), or undefined. */
  lastEventId = undefined;
  /** The last `retry:` hint in milliseconds, or undefined. */
  retryMs = undefined;

  /** Feeds a chunk of text; returns the events it completed: [{type, data, id}]. */
  push(text) {
    this.#buffer += text;
    const events = [];
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      // A lone CR at the very end may be the first half of a CRLF split across chunks.
      if (this.#buffer[end] === '\r' && end === this.#buffer.length - 1) break;
      const newline = this.#buffer.startsWith('\r\n', end) ? 2 : 1;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + newline);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  #line(line) {
    if (line === '') {
      if (!this.#hasData) {
        this.#type = '';
        return undefined;
      }
      const event = { type: this.#type || 'message', data: this.#data.join('\n'), id: this.lastEventId };
      this.#data = [];
      this.#hasData = false;
      this.#type = '';
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#hasData = true;
        break;
      case 'event':
        this.#type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }
}
