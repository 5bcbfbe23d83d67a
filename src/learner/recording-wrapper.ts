import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';

// The `terraform`/`tofu` a learner script finds on PATH: a small bash program
// (a few MB, where a Node wrapper took ~45 MB per running command) that
// appends a start record (the arguments, and the values of TF_CLI_ARGS and
// every TF_CLI_ARGS_* variable it was given, since terraform takes arguments
// from them too: `"tf_cli_args":{"TF_CLI_ARGS_apply":"-lock=false"}`), runs
// the real binary with the same arguments, stdin and output, forwards
// INT/TERM/HUP/QUIT to it, appends an end record with the exit code (or the
// signal that ended it) and exits the same way. Paths are baked in, not read
// from the environment. Needs bash >= 5 ($EPOCHREALTIME).
function wrapperSource(options: { realBinary: string; recordsFile: string; tool: string }): string {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  return `#!/bin/bash
records=${quote(options.recordsFile)}
real=${quote(options.realBinary)}
tool=${quote(options.tool)}
# JSON string of $1 in REPLY (other control characters become "?").
esc() { local s=$1; s=\${s//\\\\/\\\\\\\\}; s=\${s//\\"/\\\\\\"}; s=\${s//$'\\n'/\\\\n}; s=\${s//$'\\r'/\\\\r}; s=\${s//$'\\t'/\\\\t}; s=\${s//[$'\\001'-$'\\037']/?}; REPLY="\\"$s\\""; }
now() { local t=\${EPOCHREALTIME/[.,]/}; REPLY=\${t:0:\${#t}-3}; }
args=""
for arg in "$@"; do esc "$arg"; args+="\${args:+,}$REPLY"; done
# TF_CLI_ARGS and TF_CLI_ARGS_<command>: terraform adds their words to the command line.
cli=""
for name in "\${!TF_CLI_ARGS@}"; do
  case $name in TF_CLI_ARGS|TF_CLI_ARGS_*) esc "\${!name}"; cli+="\${cli:+,}\\"$name\\":$REPLY" ;; esac
done
esc "$PWD"; cwd=$REPLY
id="$$-\${EPOCHREALTIME/[.,]/}"
now; printf '{"event":"start","id":"%s","tool":"%s","args":[%s],"tf_cli_args":{%s},"cwd":%s,"pid":%d,"started_at":%s}\\n' "$id" "$tool" "$args" "$cli" "$cwd" "$$" "$REPLY" >>"$records" 2>/dev/null
child=
pending=
# A signal that lands between starting the binary and child=$! is kept and passed on just after.
for sig in INT TERM HUP QUIT; do trap 'if [ -n "$child" ]; then kill -'"$sig"' "$child" 2>/dev/null; else pending='"$sig"'; fi' "$sig"; done
exec 3<&0
"$real" "$@" <&3 3<&- &
child=$!
[ -n "$pending" ] && kill -"$pending" "$child" 2>/dev/null
exec 3<&-
while :; do
  wait "$child"; code=$?
  kill -0 "$child" 2>/dev/null || break
done
wait "$child" 2>/dev/null; again=$?
[ "$again" -ne 127 ] && code=$again
now
if [ "$code" -gt 128 ] && signal=$(kill -l $((code - 128)) 2>/dev/null); then
  printf '{"event":"end","id":"%s","ended_at":%s,"exit_code":null,"signal":"SIG%s"}\\n' "$id" "$REPLY" "$signal" >>"$records" 2>/dev/null
  trap - "$signal"; kill -"$signal" "$$"
else
  printf '{"event":"end","id":"%s","ended_at":%s,"exit_code":%d,"signal":null}\\n' "$id" "$REPLY" "$code" >>"$records" 2>/dev/null
fi
exit "$code"
`;
}

// Writes \`terraform\` and \`tofu\` wrappers into binDir, both running realBinary.
export async function writeRecordingWrappers(binDir: string, realBinary: string, recordsFile: string): Promise<void> {
  for (const tool of ['terraform', 'tofu']) {
    const file = path.join(binDir, tool);
    await writeFile(file, wrapperSource({ realBinary, recordsFile, tool }));
    await chmod(file, 0o755);
  }
}
