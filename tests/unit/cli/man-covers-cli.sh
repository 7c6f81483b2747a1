#!/bin/bash
# machine(1) documents every command and every flag that `machine --help` and each
# `machine VERB --help` list (driver flags, documented per driver, excepted), and the exit codes.
set -u
man="$MACHINE_TEST_SRCDIR/docs/man/machine.1"
M=$MACHINE_BIN
n=0 bad=0
miss() { bad=$((bad + 1)); echo "# machine.1 does not document $*"; }
verbs=$("$M" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF >= 2 {print $1}' | grep -v Commands:)
for v in $verbs; do
    n=$((n + 1))
    esc=${v//-/\\\\-}
    grep -q "^\.SS \"machine .*\b$esc\b" "$man" || miss "the command '$v'"
    flags=$("$M" "$v" --help | grep -E '^ +(-., )?--' |
        grep -vE '\[\$MACHINE_(NONE|FAKE|GENERIC|AWS|LIBVIRT|AZURE)_' |
        sed -E 's/^ +(-., )?--([a-z0-9-]+).*/\2/' | grep -v '^help$')
    for f in $flags; do
        n=$((n + 1))
        grep -q -- "\\\\-\\\\-${f//-/\\\\-}\b" "$man" || miss "'machine $v --$f'"
    done
done
for f in $("$M" --help | grep -E '^  -., --' | sed -E 's/^  -., --([a-z-]+).*/\1/'); do
    n=$((n + 1))
    grep -q -- "\\\\-\\\\-${f//-/\\\\-}\b" "$man" || miss "the global flag '--$f'"
done
grep -q '^\.SH EXIT STATUS' "$man" || miss "the exit codes"
echo "# checked $n commands and flags"
if [ "$bad" -ne 0 ]; then echo "FAIL: $bad missing"; exit 1; fi
echo "ok: machine(1) covers them"
