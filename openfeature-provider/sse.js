// A Server-Sent Events reader, without I/O: text in (as it arrives, split anywhere), events out.
// Follows the WHATWG "event stream interpretation": lines end in CRLF, LF or CR; a line starting
// with ':' is a comment (the origin's heartbeats); `data` lines join with '\n'; a blank line
// dispatches; `id` sets the last event id (kept across events, as EventSource does); `retry` with
// only digits sets the reconnection time.

export class SseParser {
  #buffer = '';
  #afterCr = false;
  #data = [];
  #type = '';
  #hasData = false;
  /** The last `id:` seen (EventSource's "last event ID string"), or undefined. */
  lastEventId = undefined;
  /** The last `retry:` hint in milliseconds, or undefined. */
  retryMs = undefined;

  /** Feeds a chunk of text; returns the events it completed: [{type, data, id}]. */
  push(text) {
    // A CR ends a line at once; an LF right after it (perhaps in the next chunk) is then skipped.
    if (this.#afterCr && text.startsWith('\n')) text = text.slice(1);
    this.#afterCr = false;
    this.#buffer += text;
    const events = [];
    for (;;) {
      const end = this.#buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end);
      let next = end + 1;
      if (this.#buffer[end] === '\r') {
        if (next === this.#buffer.length) this.#afterCr = true;
        else if (this.#buffer[next] === '\n') next += 1;
      }
      this.#buffer = this.#buffer.slice(next);
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
