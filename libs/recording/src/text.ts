// Terminal output as plain text: escape sequences (colours, cursor movement, titles) removed,
// line endings normalised. A state machine, fed piece by piece, so a sequence split between two
// events is still removed and memory stays constant.

type State = 'text' | 'esc' | 'escArg' | 'csi' | 'string' | 'stringEsc';

/** Strips escape sequences and control characters from a stream of terminal text. */
export class PlainText {
  private state: State = 'text';
  private pendingCr = false;

  feed(input: string): string {
    let out = '';
    for (const ch of input) {
      const code = ch.codePointAt(0)!;
      switch (this.state) {
        case 'text':
          if (code === 0x1b) this.state = 'esc';
          else if (ch === '\r') this.pendingCr = true;
          else if (ch === '\n') {
            this.pendingCr = false;
            out += '\n';
          } else if (ch === '\t' || code >= 0x20) {
            // A lone carriage return rewrites the line on screen; as text, start a new one.
            if (this.pendingCr) out += '\n';
            this.pendingCr = false;
            if (code !== 0x7f) out += ch;
          }
          break;
        case 'esc':
          if (ch === '[') this.state = 'csi';
          else if (ch === ']' || ch === 'P' || ch === 'X' || ch === '^' || ch === '_')
            this.state = 'string';
          else if (' #%()*+-./'.includes(ch)) this.state = 'escArg';
          else this.state = 'text';
          break;
        case 'escArg':
          this.state = 'text';
          break;
        case 'csi':
          if (code >= 0x40 && code <= 0x7e) this.state = 'text';
          break;
        case 'string':
          if (code === 0x07) this.state = 'text';
          else if (code === 0x1b) this.state = 'stringEsc';
          break;
        case 'stringEsc':
          this.state = ch === '\\' ? 'text' : 'string';
          break;
      }
    }
    return out;
  }
}
