/*  page.h: the dashboard's page, web/dist/index.html, built into the
    binary (dash/page.S) so that neither the coordinator nor hpo report
    needs a file or the network at run time.                             */
#ifndef HPO_PAGE_H
#define HPO_PAGE_H

#include <stddef.h>

//  The page's bytes, hpo_page_size of them, followed by a NUL (so it is
//  also a C string, the page holding none).
extern const char hpo_page[];
extern const size_t hpo_page_size;

#endif
