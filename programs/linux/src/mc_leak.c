/* mc_leak.c (memory checker): three blocks left at exit, one of each kind.
   - 40 bytes definitely lost: its only pointer is overwritten;
   - 16 bytes indirectly lost: only the lost 40-byte block points to it;
   - 24 bytes still reachable: a global pointer holds it when main returns.
   Everything else is freed. main returns 0.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively,
   --leak-check=full --show-leak-kinds=all):
     16 bytes in 1 blocks are indirectly lost (malloc in make_lost_pair)
     56 (40 direct, 16 indirect) bytes in 1 blocks are definitely lost (make_lost_pair)
     24 bytes in 1 blocks are still reachable (main)
     LEAK SUMMARY: definitely lost 40 bytes in 1 blocks, indirectly lost 16 bytes in
     1 blocks, still reachable 24 bytes in 1 blocks.
   No invalid access; the definite leak is its only "error" (ERROR SUMMARY: 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    char name[32];
    struct node *next; /* 32 + 8 = 40 bytes */
};

char *kept; /* still reachable at exit */

/* Builds a 40-byte node pointing to a 16-byte block and loses the node: the pointer
   is overwritten, so only the node, which nothing points to, holds the 16-byte block. */
__attribute__((noinline)) static int make_lost_pair(void) {
    struct node *n = malloc(sizeof *n); /* LEAK: definitely lost: 40 bytes (allocated here) */
    if (!n) return -1;
    strcpy(n->name, "lost node");
    n->next = malloc(16); /* LEAK: indirectly lost: 16 bytes (only the lost node points to it) */
    if (!n->next) return -1;
    memset(n->next, 0x11, 16);
    int len = (int)strlen(n->name);
    n = NULL; /* the node's only pointer is overwritten: from here it is lost */
    return len;
}

int main(void) {
    int len = make_lost_pair();
    kept = malloc(24); /* LEAK: still reachable: 24 bytes (the global keeps it) */
    if (!kept) return 1;
    strcpy(kept, "kept by a global");
    char *tmp = malloc(64); /* freed: not a leak */
    if (!tmp) return 1;
    snprintf(tmp, 64, "%s / name length %d", kept, len);
    printf("%s\n", tmp);
    free(tmp);
    printf("sizes: lost 40, indirect 16, reachable 24\n");
    return 0;
}
