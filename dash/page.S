/*  page.S: web/dist/index.html as the bytes hpo_page (dash/page.h). The
    assembler reads the file itself (.incbin, found through the -I that
    CMakeLists.txt gives it), so a large page costs no C compiler time,
    and CMake relinks when the page changes (OBJECT_DEPENDS).            */
    .section .rodata
    .global hpo_page
    .type hpo_page, %object
    .balign 16
hpo_page:
    .incbin "index.html"
hpo_page_end:
    .byte 0
    .size hpo_page, . - hpo_page

    .global hpo_page_size
    .type hpo_page_size, %object
    .balign 8
hpo_page_size:
    .quad hpo_page_end - hpo_page
    .size hpo_page_size, 8

    //  No executable stack for the objects that link this one.
    .section .note.GNU-stack, "", %progbits
