/*
 * hook: a project's `build-hook-pre` Makefile target, run as
 * `make build-hook-pre` in the project folder before its first build
 * (some projects generate files their builds need). A hook that fails is
 * a warning, as it was for the earlier tool: the build is still tried.
 */
#ifndef IMGVAULT_CMD_HOOK_H
#define IMGVAULT_CMD_HOOK_H

/* Does the project's Makefile have a build-hook-pre target? */
int has_build_hook(const char *project_dir);

/*
 * Run the hook of root/project when it has one; its output is shown with
 * verbose, else only its last lines when it fails; "[hook] …" is printed
 * unless quiet. Returns 0 when there
 * was no hook or it succeeded, -1 when it failed (a warning was printed).
 */
int run_build_hook(const char *root, const char *project, int verbose, int quiet);

#endif
