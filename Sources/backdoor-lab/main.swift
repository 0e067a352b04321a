import LabCommands

BackdoorLab.main()
