# Install rules and the Debian package (CPack DEB), included by CMakeLists.txt
# after the targets are defined.
#
#   ./scripts/package.sh                 Release build in build-release/, then cpack
#   cmake --install build --prefix /usr  what the package holds, onto this machine
#
# The unit files name /usr/bin/switchyard and /etc/switchyard/switchyard.toml,
# so they are right for the package (prefix /usr) and for `--prefix /usr`;
# with another prefix, edit ExecStart in a drop-in. The config goes to
# /etc/switchyard whatever the prefix (an absolute DESTINATION), as a conffile.
# The test tools (switchyard-echo, switchyard-load) are not installed.
include(GNUInstallDirs)

set(SWITCHYARD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system unit directory, relative to the install prefix")

install(TARGETS switchyard switchyardctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/systemd/switchyard.service
              ${CMAKE_SOURCE_DIR}/systemd/switchyard.socket
        DESTINATION ${SWITCHYARD_SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/conf/switchyard.toml DESTINATION /etc/switchyard)
# The logrotate example (log files in /var/log/switchyard; SIGUSR1 reopens
# them). Inert while the logs go to stdout/stderr (missingok).
install(FILES ${CMAKE_SOURCE_DIR}/conf/logrotate DESTINATION /etc/logrotate.d RENAME switchyard)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# What Debian policy asks of every package (checked by lintian in
# scripts/check-package.sh): a copyright file, the changelog and the manual
# pages, compressed with gzip -9n (no name or timestamp inside, so the package
# is reproducible), and the lintian tags accepted on purpose, with reasons.
set(switchyard_gz_dir ${CMAKE_BINARY_DIR}/packaging)
set(switchyard_gz_files)
foreach(src IN ITEMS packaging/debian/changelog packaging/man/switchyard.1
                     packaging/man/switchyardctl.1)
  get_filename_component(name ${src} NAME)
  set(out ${switchyard_gz_dir}/${name}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${switchyard_gz_dir}
    COMMAND sh -c "gzip -9n < \"$0\" > \"$1\"" ${CMAKE_SOURCE_DIR}/${src} ${out}
    DEPENDS ${CMAKE_SOURCE_DIR}/${src} VERBATIM)
  list(APPEND switchyard_gz_files ${out})
endforeach()
add_custom_target(switchyard_package_docs ALL DEPENDS ${switchyard_gz_files})
install(FILES ${switchyard_gz_dir}/switchyard.1.gz ${switchyard_gz_dir}/switchyardctl.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${switchyard_gz_dir}/changelog.gz ${CMAKE_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME switchyard)

# --- CPack: one .deb ------------------------------------------------------------
set(SWITCHYARD_PACKAGE_MAINTAINER
    "Switchyard maintainers <maintainers@users.noreply.r-seed-ddb2da0b.example>"
    CACHE STRING "Maintainer field of the .deb (Name <email>)")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "switchyard")
set(CPACK_PACKAGE_VENDOR "Switchyard")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${SWITCHYARD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Layer-7 load balancer for blue/green and canary deployments")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo trees carry debug info; the package does not

set(CPACK_DEBIAN_PACKAGE_NAME "switchyard")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SWITCHYARD_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Architecture: unset, so CPack asks `dpkg --print-architecture`.
# The extended description; CPack puts the summary above it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Switchyard is an HTTP/1.1 reverse proxy that fronts production traffic, holds
upstream pools (blue, green, ...), sends a weighted, sticky share of users to
a canary pool, switches the active pool atomically on one control-socket
command (switchyardctl) and drains the old pool, so that a deploy causes no
failed requests. Routing changes are durable; reloads and hot binary upgrades
keep serving.")
# dpkg-shlibdeps (dpkg-dev, pulled in by build-essential) computes the library
# dependencies; adduser is needed by the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # switchyard_<version>_<arch>.deb
# CPack (3.25) marks no conffiles by itself: packaging/debian/conffiles lists
# /etc/switchyard/switchyard.toml and /etc/logrotate.d/switchyard, so an
# upgrade keeps the operator's edits.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/packaging/debian/conffiles"
    "${CMAKE_SOURCE_DIR}/packaging/debian/postinst"
    "${CMAKE_SOURCE_DIR}/packaging/debian/prerm"
    "${CMAKE_SOURCE_DIR}/packaging/debian/postrm")
# Scripts 0755, conffiles 0644, whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
