alert("x");
document.getElementById("out").textContent = "after alert";
