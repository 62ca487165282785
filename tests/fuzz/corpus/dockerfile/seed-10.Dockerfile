# escape=`
ARG V="1.0" W='quoted value'
FROM img:$V `
  AS named
FROM "quoted/image:${W}"
