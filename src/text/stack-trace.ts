/* Stack frame lines of the common runtimes; a line that matches none is message text. */
const FRAME_LINES: RegExp[] = [
  /^\s*at\s+\S.*(?:\)|:\d+)\s*$/, // JavaScript, Java, C#: "at fn (file:12:3)", "at a.B.c(B.java:12)"
  /^\s*File\s+"[^"]*",\s+line\s+\d+/, // Python
  /^\s*(?:from\s+)?\S+\.rb:\d+:in\s/, // Ruby
  /^\s*#\d+\s+(?:0x[0-9a-f]+\s|[/\\{]|\S+\(\d+\):)/i, // PHP, gdb
  /^\s*\d+\s+\S+\s+0x[0-9a-f]+\s/i, // Apple crash reports
  /^\s*\.\.\.\s*\d+\s+more\b/, // Java "... 42 more"
  /^\s*\S*\.(?:js|mjs|cjs|ts|tsx|jsx|py|rb|go|java|kt|scala|swift|cs|php|rs|c|cc|cpp|h|m|dart|ex|exs):\d+/i,
];
const PYTHON_FRAME = FRAME_LINES[1];
const PYTHON_TRACEBACK = /^\s*Traceback \(most recent call last\):?\s*$/;

function isFrameLine(line: string): boolean {
  return FRAME_LINES.some((pattern) => pattern.test(line));
}

/**
 * Keeps the message lines of a text and only `maxFrames` of its stack frames: the innermost
 * ones, which are the first in JavaScript/Java traces and the last in Python tracebacks
 * (whose message, printed last, is moved first). Two users hitting the same error share
 * the message and top frames; the 200 lines below differ by deployment and dilute the text.
 */
export function condenseStackTrace(text: string, maxFrames: number): string {
  const lines = text.split('\n');
  const frameIndexes: number[] = [];
  const dropped = new Set<number>();
  let python = false;
  lines.forEach((line, i) => {
    if (PYTHON_TRACEBACK.test(line)) {
      python = true;
      dropped.add(i);
    } else if (isFrameLine(line)) {
      frameIndexes.push(i);
      // A Python frame is followed by its source line, which belongs to the frame.
      if (PYTHON_FRAME.test(line) && i + 1 < lines.length && !isFrameLine(lines[i + 1])) {
        if (indentation(lines[i + 1]) > indentation(line)) dropped.add(i + 1);
      }
    }
  });
  const kept = new Set(
    python
      ? frameIndexes.slice(Math.max(0, frameIndexes.length - maxFrames))
      : frameIndexes.slice(0, maxFrames),
  );
  for (const i of frameIndexes) if (!kept.has(i)) dropped.add(i);
  const keptLines = (from: number, to: number) =>
    lines.slice(from, to).filter((_line, offset) => !dropped.has(from + offset));
  if (!python || frameIndexes.length === 0) return keptLines(0, lines.length).join('\n');
  const afterTrace = frameIndexes[frameIndexes.length - 1] + 1;
  return [...keptLines(afterTrace, lines.length), ...keptLines(0, afterTrace)].join('\n');
}

function indentation(line: string): number {
  return line.length - line.trimStart().length;
}
