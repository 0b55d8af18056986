package cli

import (
	"debug/elf"
	"fmt"
)

// elfMachines maps GOARCH to the ELF machine of its binaries.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkLinuxBinary checks that path is a static Linux ELF for goarch.
func checkLinuxBinary(path, goarch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a Linux binary: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elfMachines[goarch] {
		return fmt.Errorf("%s is built for %v, not %s", path, f.Machine, goarch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}
