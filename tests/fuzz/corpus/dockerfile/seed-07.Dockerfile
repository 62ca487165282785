FROM scratch
FROM SCRATCH AS s
FROM s
FROM busybox
FROM busybox
FROM BusyBox
