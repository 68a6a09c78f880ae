install(TARGETS switchyard switchyardctl RUNTIME DESTINATION bin)
