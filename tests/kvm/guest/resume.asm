; SPDX-License-Identifier: MIT
;
; resume.asm: the guest of the `memtree run --snapshot/--restore` test
; (tests/kvm/run_snapshot_test.sh). A 64 KiB BIOS image like
; tests/guest/hello.asm. It only makes sense when its state survives a
; snapshot and a restore:
;
;   1. prints "resume guest: start", fills 256 KiB of RAM at 0x100000 with
;      a pattern, writes a value into pc-testdev's MMIO scratch memory and
;      its port register, and keeps a magic value in edi;
;   2. counts to 24 * 32768 in ebx (also stored in RAM at 0x600), printing
;      "tick X" every 32768 (X = a, b, c, ...): a SIGTERM with --snapshot
;      may stop it anywhere here;
;   3. prints "checkpoint" and writes 1 to isa-debug-exit (status 3):
;      with --snapshot, that is where the machine is saved;
;   4. only after a restore does it get here: it checks the pattern, the
;      counter, the device state and edi, prints "resumed: ok" and exits
;      with 0 (status 1), or "resumed: FAILED" and 2 (status 5).
;
; Build: nasm -f bin -o resume.bin resume.asm

%define ROMBASE   0xFFFF0000
%define CON       0xe9
%define EXIT      0xf4
%define PAT       0x100000
%define PAT_WORDS 65536
%define CNT       0x600
%define TICK      32768
%define TICKS     24
%define MMIO      0xff000010
%define PIO       0xe0
%define MAGIC     0xC0FFEE11
%define DEVVAL    0x5eed1234

        org ROMBASE
        bits 32

pm32:   mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x8000
        mov esi, msg_start
        call puts

        xor ecx, ecx                    ; the pattern
.fill:  mov eax, ecx
        imul eax, eax, 0x9E3779B1
        xor eax, 0x5a5a5a5a
        mov [PAT + ecx * 4], eax
        inc ecx
        cmp ecx, PAT_WORDS
        jb .fill
        mov dword [MMIO], DEVVAL        ; pc-testdev's state
        mov eax, ~DEVVAL
        out PIO, eax
        mov edi, MAGIC

        xor ebx, ebx                    ; the count
count:  inc ebx
        mov [CNT], ebx
        test ebx, TICK - 1
        jnz count
        mov esi, msg_tick
        call puts
        mov eax, ebx
        shr eax, 15
        add al, 'a' - 1
        out CON, al
        mov al, 10
        out CON, al
        cmp ebx, TICK * TICKS
        jb count

        mov esi, msg_check
        call puts
        mov al, 1
        out EXIT, al                    ; saved here by --snapshot

        ; Restored: is everything still there?
        xor ebp, ebp                    ; failures
        xor ecx, ecx
.chk:   mov eax, ecx
        imul eax, eax, 0x9E3779B1
        xor eax, 0x5a5a5a5a
        cmp [PAT + ecx * 4], eax
        je .same
        inc ebp
.same:  inc ecx
        cmp ecx, PAT_WORDS
        jb .chk
        cmp ebx, TICK * TICKS
        je .c1
        inc ebp
.c1:    cmp dword [CNT], TICK * TICKS
        je .c2
        inc ebp
.c2:    cmp dword [MMIO], DEVVAL
        je .c3
        inc ebp
.c3:    in eax, PIO
        cmp eax, ~DEVVAL
        je .c4
        inc ebp
.c4:    cmp edi, MAGIC
        je .c5
        inc ebp
.c5:    mov esi, msg_ok
        mov al, 0
        test ebp, ebp
        jz .bye
        mov esi, msg_fail
        mov al, 2
.bye:   push eax
        call puts
        pop eax
        out EXIT, al
        cli
        hlt

; puts: esi -> NUL-terminated string
puts:   mov dx, CON
.l:     lodsb
        test al, al
        jz .d
        out dx, al
        jmp .l
.d:     ret

msg_start: db "resume guest: start", 10, 0
msg_tick:  db "tick ", 0
msg_check: db "checkpoint", 10, 0
msg_ok:    db "resumed: ok", 10, 0
msg_fail:  db "resumed: FAILED", 10, 0

        align 8, db 0
gdt:    dq 0
        dq 0x00CF9B000000FFFF           ; 0x08: code, flat, 32-bit, accessed
        dq 0x00CF93000000FFFF           ; 0x10: data, flat, accessed
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt

        times 0xFFC0 - ($ - $$) db 0xF4
        bits 16
entry16:
        cli
        cld
        o32 lgdt [cs:(gdt_desc - $$)]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:pm32

        times 0xFFF0 - ($ - $$) db 0xF4
        jmp near entry16                ; reset vector: CS base 0xFFFF0000, IP 0xFFF0
        times 0x10000 - ($ - $$) db 0xF4
