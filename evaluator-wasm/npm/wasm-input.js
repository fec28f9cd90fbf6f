// Hands an encoded user (user-encoding.js) to an Evaluator in wasm by writing it in place: the text
// with TextEncoder.encodeInto and the tape as f64s into the Evaluator's input buffer, the codes read
// back from its code buffer (evaluator-wasm/src/input_buffer.rs and `evaluateCodesInput` in lib.rs).
// Passing them as arguments cost an allocation and a copy per call each way.
import { encodedSlots, encodedTape, encodeUser } from './user-encoding.js';

const encoder = new TextEncoder();

export class WasmInput {
  #inner;
  #memory;
  #size;
  #textAddress = 0;
  #textBytes = 0;
  #tapeAddress = 0;
  #tapeSlots = 0;
  #codesAddress = 0;
  /** Views of wasm memory; a growth of the memory detaches them (their length becomes 0). */
  #text = new Uint8Array(0);
  #tape = new Float64Array(0);
  #codes = new Uint16Array(0);

  /** `inner`: the wasm-bindgen Evaluator; `memory`: the module's WebAssembly.Memory. */
  constructor(inner, memory, size) {
    this.#inner = inner;
    this.#memory = memory;
    this.#size = size;
    this.#regions();
  }

  #regions() {
    const regions = this.#inner.inputRegions();
    [this.#textAddress, this.#textBytes, this.#tapeAddress, this.#tapeSlots, this.#codesAddress] = regions;
    this.#views();
  }

  #views() {
    const buffer = this.#memory.buffer;
    this.#text = new Uint8Array(buffer, this.#textAddress, this.#textBytes);
    this.#tape = new Float64Array(buffer, this.#tapeAddress, this.#tapeSlots);
    this.#codes = new Uint16Array(buffer, this.#codesAddress, this.#size);
  }

  /** After the memory grew, every view is detached: its length is 0 while the buffer's is not. */
  #refresh() {
    if (this.#tape.length !== this.#tapeSlots) this.#views();
  }

  /**
   * Writes `user`; answers the bytes of text written (the tape is `encodedSlots()` long), or -1 when
   * the exact path must read it.
   */
  #write(user) {
    const text = encodeUser(user);
    if (text === undefined) return -1;
    const slots = encodedSlots();
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (text.length * 3 > this.#textBytes || slots > this.#tapeSlots) {
      this.#inner.reserveInput(Math.max(64, text.length * 3), Math.max(64, slots));
      this.#regions();
    } else {
      this.#refresh();
    }
    const { written } = encoder.encodeInto(text, this.#text);
    const source = encodedTape();
    const tape = this.#tape;
    for (let i = 0; i < slots; i += 1) tape[i] = source[i];
    return written;
  }

  /**
   * The code of every flag for `user` (a view into wasm memory, valid until the next call into
   * wasm), or undefined when the exact path must read the user.
   */
  codes(user) {
    const bytes = this.#write(user);
    if (bytes < 0 || !this.#inner.evaluateCodesInput(bytes, encodedSlots())) return undefined;
    // The evaluation allocates in wasm, which may have grown the memory.
    this.#refresh();
    return this.#codes;
  }

  /** The code of the flag at `index` for `user`, or undefined when the exact path must read the user. */
  flagCode(index, user) {
    const bytes = this.#write(user);
    if (bytes < 0) return undefined;
    const code = this.#inner.evaluateFlagInput(index, bytes, encodedSlots());
    return code < 0 ? undefined : code;
  }
}
