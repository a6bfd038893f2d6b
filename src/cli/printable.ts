// Text a person reads in a terminal: titles, reasons and findings come from tickets and agents, so
// they may carry escape sequences (clear the screen, write the clipboard with OSC 52, hide text
// with bidi overrides). Every control character but newline and tab goes; JSON output escapes
// them itself.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(CONTROLS, '');
}
