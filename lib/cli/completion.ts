/**
 * `coord completion`: the yargs shell-completion script (yargs' own templates, MIT, from
 * yargs/build/lib/completion-templates.js), printed by our command so that `--json` can
 * carry it as one document too. The script asks `coord --get-yargs-completions …`, which
 * yargs answers (main registers completion support under a hidden name).
 */

export type Shell = 'bash' | 'zsh' | 'fish';

const BASH = `###-begin-{{app_name}}-completions-###
#
# yargs command completion script
#
# Installation: {{app_path}} completion >> ~/.bashrc
#    or {{app_path}} completion >> ~/.bash_profile on OSX.
#
_{{app_name}}_yargs_completions()
{
    local cur_word args type_list

    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    args=("\${COMP_WORDS[@]}")

    # ask yargs to generate completions.
    # see https://stackoverflow.com/a/40944195/7080036 for the spaces-handling awk
    mapfile -t type_list < <({{app_path}} --get-yargs-completions "\${args[@]}")
    mapfile -t COMPREPLY < <(compgen -W "$( printf '%q ' "\${type_list[@]}" )" -- "\${cur_word}" |
        awk '/ / { print "\\""$0"\\"" } /^[^ ]+$/ { print $0 }')

    # if no match was found, fall back to filename completion
    if [ \${#COMPREPLY[@]} -eq 0 ]; then
      COMPREPLY=()
    fi

    return 0
}
complete -o bashdefault -o default -F _{{app_name}}_yargs_completions {{app_name}}
###-end-{{app_name}}-completions-###
`;

const ZSH = `#compdef {{app_name}}
###-begin-{{app_name}}-completions-###
#
# yargs command completion script
#
# Installation: {{app_path}} completion --shell zsh >> ~/.zshrc
#    or {{app_path}} completion --shell zsh >> ~/.zprofile on OSX.
#
_{{app_name}}_yargs_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(COMP_CWORD="$((CURRENT-1))" COMP_LINE="$BUFFER" COMP_POINT="$CURSOR" {{app_path}} --get-yargs-completions "\${words[@]}"))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _{{app_name}}_yargs_completions "$@"
else
  compdef _{{app_name}}_yargs_completions {{app_name}}
fi
###-end-{{app_name}}-completions-###
`;

const FISH = `###-begin-{{app_name}}-completions-###
#
# yargs command completion script
#
# Installation: {{app_path}} completion --shell fish > ~/.config/fish/completions/{{app_name}}.fish
#
complete -f -c {{app_name}} -a '({{app_path}} --get-yargs-completions (commandline -o)[2..-1])'
###-end-{{app_name}}-completions-###
`;

/** The shell named by `$SHELL` (bash when unknown). */
export function shellOf(env: NodeJS.ProcessEnv): Shell {
  const s = env.SHELL ?? '';
  return s.endsWith('zsh') ? 'zsh' : s.endsWith('fish') ? 'fish' : 'bash';
}

/** The completion script for `shell`, completing the command `name`. */
export function completionScript(shell: Shell, name = 'coord'): string {
  const t = shell === 'zsh' ? ZSH : shell === 'fish' ? FISH : BASH;
  return t.replace(/{{app_name}}/g, name).replace(/{{app_path}}/g, name);
}
