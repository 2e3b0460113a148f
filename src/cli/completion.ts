import type { Command, Option } from 'commander';
import { commandPath } from './help.ts';

/**
 * Shell completion scripts for `bo completion bash|zsh`, generated from the commander
 * definitions: the subcommands and options of every command, the options that take a value
 * (their choices, or file names), and the global options everywhere. Pure.
 */

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

interface Tables {
  /** 'bo backup' → 'now' */
  subs: Map<string, string>;
  /** 'bo backup now' → '-a --all --json …' */
  opts: Map<string, string>;
  /** 'bo restore --to' → '' (a file); 'bo --log-level' → 'trace debug …' (its choices) */
  values: Map<string, string>;
}

export function completionScript(program: Command, shell: Shell): string {
  const t = tables(program);
  return shell === 'bash' ? bash(t) : zsh(t);
}

function tables(program: Command): Tables {
  const t: Tables = { subs: new Map(), opts: new Map(), values: new Map() };
  const visit = (cmd: Command) => {
    const key = commandPath(cmd).join(' ');
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
    if (subs.length) t.subs.set(key, subs.map((c) => c.name()).join(' '));
    const options = (cmd.options as Option[]).filter((o) => !o.hidden);
    const flags = options.flatMap((o) => [o.short, o.long].filter((f): f is string => Boolean(f)));
    // --help, like the program's options, is offered at every level from the program's list.
    t.opts.set(key, (cmd.parent ? flags : [...flags, '-h', '--help']).join(' '));
    for (const o of options) {
      if (!o.required && !o.optional) continue;
      for (const f of [o.short, o.long]) if (f) t.values.set(`${key} ${f}`, (o.argChoices ?? []).join(' '));
    }
    subs.forEach(visit);
  };
  visit(program);
  return t;
}

/** The tables as shell code that bash and zsh read alike. */
function tablesCode(t: Tables): string {
  return [
    'typeset -gA _bo_subs _bo_opts _bo_values',
    assoc('_bo_subs', t.subs),
    assoc('_bo_opts', t.opts),
    assoc('_bo_values', t.values),
  ].join('\n');
}

/** name=( ['key']='value' … ), quoted for bash and zsh alike. */
function assoc(name: string, map: Map<string, string>): string {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return `${name}=(\n${[...map].map(([k, v]) => `  [${q(k)}]=${q(v)}`).join('\n')}\n)`;
}

function bash(t: Tables): string {
  return `# bash completion for bo, written by \`bo completion bash\` from bo's command definitions.
# Install: bo completion bash > /etc/bash_completion.d/bo, or in ~/.bashrc: source <(bo completion bash)
${tablesCode(t)}

_bo_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} node=bo i w k
  # The command path so far; an option's value is skipped, not taken for a command.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      [[ $w != *=* && ( -n \${_bo_values["$node $w"]+x} || -n \${_bo_values["bo $w"]+x} ) ]] && ((i++))
      continue
    fi
    [[ " \${_bo_subs[$node]} " == *" $w "* ]] && node="$node $w"
  done
  COMPREPLY=()
  k="$node $prev"
  [[ -n \${_bo_values[$k]+x} ]] || k="bo $prev"
  if ((COMP_CWORD > 1)) && [[ -n \${_bo_values[$k]+x} ]]; then
    # An option's value: its choices, else file names (complete -o default).
    [[ -n \${_bo_values[$k]} ]] && mapfile -t COMPREPLY < <(compgen -W "\${_bo_values[$k]}" -- "$cur")
    return 0
  fi
  if [[ $cur == -* ]]; then
    w=\${_bo_opts[$node]}
    [[ $node == bo ]] || w="$w \${_bo_opts[bo]}"
    mapfile -t COMPREPLY < <(compgen -W "$w" -- "$cur")
  elif [[ -n \${_bo_subs[$node]} ]]; then
    mapfile -t COMPREPLY < <(compgen -W "\${_bo_subs[$node]}" -- "$cur")
  fi
  return 0
}
complete -o default -F _bo_complete bo
`;
}

function zsh(t: Tables): string {
  return `#compdef bo
# zsh completion for bo, written by \`bo completion zsh\` from bo's command definitions.
# Install: bo completion zsh > "\${fpath[1]}/_bo", or in ~/.zshrc after compinit: source <(bo completion zsh)
${tablesCode(t)}

_bo() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} node=bo i w k
  # The command path so far; an option's value is skipped, not taken for a command.
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && (( \${+_bo_values[$node $w]} || \${+_bo_values[bo $w]} )) && ((i++))
      continue
    fi
    [[ " \${_bo_subs[$node]} " == *" $w "* ]] && node="$node $w"
  done
  k="$node $prev"
  (( \${+_bo_values[$k]} )) || k="bo $prev"
  if (( CURRENT > 2 && \${+_bo_values[$k]} )); then
    # An option's value: its choices, else file names.
    if [[ -n \${_bo_values[$k]} ]]; then compadd -- \${=_bo_values[$k]}; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    w=\${_bo_opts[$node]}
    [[ $node == bo ]] || w="$w \${_bo_opts[bo]}"
    compadd -- \${=w}
  elif [[ -n \${_bo_subs[$node]} ]]; then
    compadd -- \${=_bo_subs[$node]}
  else
    _files
  fi
}

# From fpath (autoloaded as _bo) complete now; when sourced, register.
if [[ \${funcstack[1]} == _bo ]]; then _bo "$@"; else compdef _bo bo; fi
`;
}
