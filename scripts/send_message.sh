#!/usr/bin/env bash
# send_message.sh FROM TO TYPE SUBJECT BODY [--require-ack]
# Compatibility wrapper (upstream toolkit name and argument order; MIGRATION.md): sends one
# message with `sm`. TO is all, buildN, N or a comma list; read state is per recipient.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="send_message.sh FROM TO TYPE SUBJECT BODY [--require-ack]"
compat_deprecated "sm --from FROM --type TYPE --subject SUBJECT [--require-ack] TO -- BODY"
(($# == 5 || $# == 6)) || compat_usage "expected 5 or 6 arguments, got $#" "$usage"
compat_require "$usage" FROM "$1"
compat_require "$usage" TO "$2"
compat_require "$usage" TYPE "$3"
compat_require "$usage" SUBJECT "$4"
compat_not_option "$usage" FROM "$1"
compat_not_option "$usage" TO "$2"
compat_not_option "$usage" TYPE "$3"
ack=()
if (($# == 6)); then
  [[ "$6" == --require-ack ]] || compat_usage "unknown option \"$6\" (the only option is --require-ack)" "$usage"
  ack=(--require-ack)
fi
# The body goes after --: text that starts with - is never taken for an option.
compat_sm "--from=$1" "--type=$3" "--subject=$4" ${ack[@]+"${ack[@]}"} "$2" -- "$5"
