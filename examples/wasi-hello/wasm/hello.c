// A WASI command: greets whoever its arguments name, says what GREETING is set to,
// and writes a note into the directory the host preopened as `/out`.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *greeting = getenv("GREETING");
    if (!greeting) greeting = "Hello";
    if (argc < 2) {
        printf("%s, world!\n", greeting);
    } else {
        for (int i = 1; i < argc; i++) printf("%s, %s!\n", greeting, argv[i]);
    }
    FILE *note = fopen("/out/note.txt", "w");
    if (!note) {
        fprintf(stderr, "no /out directory: the note is not written\n");
        return 0;
    }
    fprintf(note, "greeted %d name(s)\n", argc < 2 ? 1 : argc - 1);
    fclose(note);
    printf("wrote /out/note.txt\n");
    return 0;
}
