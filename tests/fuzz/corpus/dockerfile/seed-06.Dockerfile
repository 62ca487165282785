ARG A=one
ARG B=${A}-two C=${MISSING:-dflt} D=${A:+alt} E=${MISSING+never}
ARG F=${EMPTY:-colon-default} G=${EMPTY-kept}
FROM repo/${B}:${C}
FROM repo/$A:$D
FROM repo/x:${F}${G}
