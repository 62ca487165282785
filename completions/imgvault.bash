# bash completion for imgvault(1) and the image-* names of the same binary.
#
# Everything comes from the binary named by the word being completed
# (imgvault, build/imgvault, ~/_scripts/image-archive, …), at completion
# time, so a new command or flag needs no edit here:
#   commands      the "Commands:" list of `imgvault --help`, and help
#   flags         the option column of `imgvault help COMMAND`: --name,
#                 --name=VALUE (a flag taking a value) and -x short forms
#   --project=, --exclude=
#                 `imgvault catalog --list-projects`, with the --root given
#                 on the line, else the binary's own default (IMGVAULT_ROOT…)
#   --root=, --output-dir=, --archive-dir=, a VALUE named DIR
#                 folders
#   --flag=a|b    a value spelt as choices in the help: a, b (--compress)
# Both --flag=VALUE and --flag VALUE are completed, whether or not
# COMP_WORDBREAKS holds '='. Needs bash 4.2 or later, not bash-completion.
# Installed as share/bash-completion/completions/imgvault.

# _imgvault_dequote WORD [TILDE]: WORD with its quotes and backslashes
# removed, as the shell would read it; with TILDE, a leading ~ or ~/
# becomes $HOME. No eval: nothing on the line is ever run. Sets REPLY.
_imgvault_dequote() {
	local w=$1 c q=
	REPLY=
	if [[ -n ${2-} ]]; then
		case $w in
		\~) w=$HOME ;;
		\~/*) w=$HOME/${w#\~/} ;;
		esac
	fi
	while [[ -n $w ]]; do
		c=${w:0:1} w=${w:1}
		if [[ $q == "'" ]]; then
			if [[ $c == "'" ]]; then q=; else REPLY+=$c; fi
		elif [[ $c == "\\" ]]; then
			REPLY+=${w:0:1} w=${w:1}
		elif [[ $c == '"' && $q == '"' ]]; then
			q=
		elif [[ -z $q && ( $c == "'" || $c == '"' ) ]]; then
			q=$c
		else
			REPLY+=$c
		fi
	done
}

# _imgvault_line: the words of the line up to the cursor, with the pieces
# COMP_WORDBREAKS split off ("--root", "=", "/x") glued back together
# wherever no blank separated them. Sets _imgvault_words; the last one is
# the word being completed, cut at the cursor.
_imgvault_line() {
	local line=${COMP_LINE:0:COMP_POINT} piece i n=-1
	_imgvault_words=()
	for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
		if ((n < 0)) || [[ $line == [[:blank:]]* ]]; then
			line=${line#"${line%%[![:blank:]]*}"}
			_imgvault_words[++n]=
		fi
		piece=${line:0:${#COMP_WORDS[i]}}
		line=${line:${#piece}}
		_imgvault_words[n]+=$piece
	done
	((n >= 0)) || _imgvault_words=('')
}

# _imgvault_keep WORD: how much of WORD readline leaves in place, that is
# up to and including its last unescaped COMP_WORDBREAKS character (the
# '=' of --root=/x when '=' is one). Sets REPLY.
_imgvault_keep() {
	local w=$1 i c end=0
	for ((i = 0; i < ${#w}; i++)); do
		c=${w:i:1}
		if [[ $c == "\\" ]]; then
			((i++))
		elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
			end=$((i + 1))
		fi
	done
	REPLY=${w:0:end}
}

# _imgvault_add CUR WORD…: offer each WORD that starts with CUR (CUR as
# typed, the words literal), quoted for the line and without the part of
# CUR readline keeps. A word ending in '=' or '/' takes no space. With
# _imgvault_tilde set (folders), a leading ~ is left for the shell.
_imgvault_add() {
	local cur=$1 want keep w q
	shift
	_imgvault_dequote "$cur"
	want=$REPLY
	_imgvault_keep "$cur"
	_imgvault_dequote "$REPLY"
	keep=$REPLY
	for w; do
		[[ $w == "$want"* && $w == "$keep"* ]] || continue
		w=${w:${#keep}}
		[[ -n $w ]] || continue
		if [[ -n ${_imgvault_tilde-} && $w == '~'* ]]; then
			printf -v q '%q' "${w:1}"
			[[ $q == "''" ]] && q=
			q="~$q"
		else
			printf -v q '%q' "$w"
		fi
		COMPREPLY+=("$q")
		[[ $w == *[=/] ]] && compopt -o nospace 2>/dev/null
	done
	return 0
}

# _imgvault_run BIN CMD ARGS…: run command CMD of the binary as the line
# would, with stderr dropped. An image-* word runs as image-CMD (exec -a),
# so its root defaults are the ones of the command being completed.
_imgvault_run() {
	local bin=$1 cmd=$2
	shift 2
	if [[ ${bin##*/} == image-* ]]; then
		(exec -a "${bin%image-*}image-$cmd" "$bin" "$@") 2>/dev/null
	else
		"$bin" "$cmd" "$@" 2>/dev/null
	fi
}

# _imgvault_commands BIN: the commands `BIN --help` lists, then help.
_imgvault_commands() {
	local line in=
	while IFS= read -r line; do
		if [[ $line == Commands:* ]]; then
			in=1
		elif [[ -n $in && $line =~ ^\ +([a-z][a-z-]*)(\ |$) ]]; then
			echo "${BASH_REMATCH[1]}"
		elif [[ -n $in ]]; then
			break
		fi
	done < <("$1" --help 2>/dev/null)
	echo help
}

# _imgvault_flags BIN CMD: the flags of CMD's help, one a line: a flag
# taking a value as --name=VALUE (or -x=VALUE), a plain one as --name.
# Only the option column counts: a line indented by at most four spaces
# that starts with '-', its flags separated by ", ".
_imgvault_flags() {
	local line rest i
	local -a names values
	local re='^(-[a-zA-Z]|--[a-z][a-z-]*)(=[^[:space:],]*)?(, )?'
	while IFS= read -r line; do
		[[ $line =~ ^\ {1,4}- ]] || continue
		rest=${line#"${line%%[! ]*}"}
		names=() values=()
		while [[ $rest =~ $re ]]; do
			names+=("${BASH_REMATCH[1]}")
			values+=("${BASH_REMATCH[2]}")
			rest=${rest:${#BASH_REMATCH[0]}}
			[[ -n ${BASH_REMATCH[3]} ]] || break
		done
		# "-H, --host=URL": the short form takes what the long one takes.
		for ((i = ${#names[@]} - 2; i >= 0; i--)); do
			[[ -z ${values[i]} ]] && values[i]=${values[i + 1]}
		done
		for ((i = 0; i < ${#names[@]}; i++)); do
			echo "${names[i]}${values[i]}"
		done
	done < <(if [[ ${1##*/} == image-* ]]; then "$1" --help; else "$1" help "$2"; fi 2>/dev/null)
}

# _imgvault_values BIN FLAGSPEC CUR ARGV…: complete CUR as the value of
# FLAGSPEC (--name=VALUE); ARGV is the line, for its --root.
_imgvault_values() {
	local bin=$1 spec=$2 cur=$3 root='' val pre w i
	local -a words cands
	shift 3
	words=("$@")
	case $spec in
	--project=* | --exclude=*)
		for ((i = 1; i < ${#words[@]} - 1; i++)); do
			if [[ ${words[i]} == --root=* ]]; then
				root=${words[i]#--root=}
			elif [[ ${words[i]} == --root ]] && ((i + 2 < ${#words[@]})); then
				root=${words[i + 1]}
			fi
		done
		if [[ -n $root ]]; then
			_imgvault_dequote "$root" 1
			mapfile -t cands < <(_imgvault_run "$bin" catalog --list-projects --root="$REPLY")
		else
			mapfile -t cands < <(_imgvault_run "$bin" catalog --list-projects)
		fi
		;;
	--root=* | --output-dir=* | --archive-dir=* | *=DIR)
		pre=${cur%%=*}=
		[[ $cur == --*=* ]] || pre=
		_imgvault_dequote "${cur#"$pre"}"
		val=$REPLY
		mapfile -t cands < <(compgen -d -- "$val")
		for i in "${!cands[@]}"; do
			cands[i]=$pre${cands[i]}/
		done
		local _imgvault_tilde=1
		_imgvault_add "$cur" "${cands[@]}"
		return 0
		;;
	*=*'|'*)
		IFS='|' read -r -a cands <<<"${spec#*=}"
		;;
	*)
		return 0
		;;
	esac
	if [[ $cur == --*=* ]]; then
		pre=${cur%%=*}=
		for i in "${!cands[@]}"; do
			cands[i]=$pre${cands[i]}
		done
	fi
	for w in "${cands[@]}"; do
		[[ -n $w ]] && _imgvault_add "$cur" "$w"
	done
	return 0
}

_imgvault() {
	local bin cmd cur prev f
	local -a words flags
	COMPREPLY=()
	_imgvault_line
	words=("${_imgvault_words[@]}")
	cur=${words[${#words[@]} - 1]}
	_imgvault_dequote "${words[0]}" 1
	bin=$REPLY
	if [[ ${bin##*/} == image-* ]]; then
		cmd=${bin##*/image-}
	elif ((${#words[@]} == 2)); then
		if [[ $cur == -* ]]; then
			_imgvault_add "$cur" --help --version
		else
			mapfile -t flags < <(_imgvault_commands "$bin")
			_imgvault_add "$cur" "${flags[@]}"
		fi
		return 0
	elif [[ ${words[1]} == help ]]; then
		if ((${#words[@]} == 3)); then
			mapfile -t flags < <(_imgvault_commands "$bin")
			_imgvault_add "$cur" "${flags[@]/#help/}"
		fi
		return 0
	else
		cmd=${words[1]}
	fi
	mapfile -t flags < <(_imgvault_flags "$bin" "$cmd")
	((${#flags[@]})) || return 0
	prev=
	((${#words[@]} > 2)) && prev=${words[${#words[@]} - 2]}
	# --name VALUE: the word after a flag that takes a value is that value.
	if [[ $prev == -* && $prev != *=* ]]; then
		for f in "${flags[@]}"; do
			if [[ $f == "$prev="* ]]; then
				_imgvault_values "$bin" "$f" "$cur" "${words[@]}"
				return 0
			fi
		done
	fi
	if [[ $cur == --*=* ]]; then
		for f in "${flags[@]}"; do
			if [[ $f == "${cur%%=*}="* ]]; then
				_imgvault_values "$bin" "$f" "$cur" "${words[@]}"
				return 0
			fi
		done
		return 0
	fi
	# No command takes operands, so an empty word is offered the long flags.
	if [[ $cur == -* || -z $cur ]]; then
		for f in "${flags[@]}"; do
			[[ -z $cur && $f != --* ]] && continue
			[[ $f == --*=* ]] && f=${f%%=*}=
			[[ $f == -[a-zA-Z]=* ]] && f=${f%%=*}
			_imgvault_add "$cur" "$f"
		done
	fi
	return 0
}

complete -F _imgvault imgvault image-catalog image-build image-archive image-restore \
	image-verify image-status
