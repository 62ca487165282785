ARG TAG=1
FROM image:\$TAG
FROM image:$$TAG
FROM image:${TAG
FROM image:${TAG:-${NESTED:-${DEEP}}}
FROM image:${}
FROM
