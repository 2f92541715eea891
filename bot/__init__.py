"""Community MARAC bot: a Teams bot that runs a multi-agency ASB risk panel."""
